"""Answers under /api/ keep the API's error shape even when Django itself answers (an unknown path is a JSON 404,
in development too, where Django would otherwise show its HTML debug page)."""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, JsonResponse

API_PREFIX = "/api/"
NOT_FOUND = {"detail": "Not found.", "errors": {}}


class APIErrorShapeMiddleware:
    """Place above CommonMiddleware, so a missing trailing slash is still redirected first."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            response.status_code == 404
            and request.path.startswith(API_PREFIX)
            and not response.get("Content-Type", "").startswith("application/json")
        ):
            return JsonResponse(NOT_FOUND, status=404)
        return response
