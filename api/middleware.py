"""Answers under /api/ keep the API's error shape even when Django itself answers: an unknown path (a JSON 404, in
development too, where Django would otherwise show its HTML debug page), a CSRF failure, a body over
DATA_UPLOAD_MAX_MEMORY_SIZE (413), a method not allowed, and any unhandled exception (500, or 503 with Retry-After
when the database or Redis did not answer). Django still logs the exception and sends its signals first; only the
page it would show is replaced, so the traceback is in the log, never in the answer."""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, JsonResponse
from rest_framework.response import Response

from api.exceptions import RETRY_UNAVAILABLE_SECONDS, error_body, error_status

API_PREFIX = "/api/"
_EXCEPTION = "_api_unhandled_exception"


class APIErrorShapeMiddleware:
    """First in MIDDLEWARE (above CommonMiddleware, so a missing trailing slash is still redirected first)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            response.status_code < 400
            or not request.path.startswith(API_PREFIX)
            # DRF's answers are in the shape already (JSON, or the browsable page of the same error)
            or isinstance(response, Response)
            or response.get("Content-Type", "").startswith("application/json")
        ):
            return response
        exception = getattr(request, _EXCEPTION, None)
        code = error_status(exception, response.status_code)
        shaped = JsonResponse(error_body(code, exception), status=code)
        if code == 503:
            shaped["Retry-After"] = str(RETRY_UNAVAILABLE_SECONDS)
        if code == 405 and "Allow" in response:
            shaped["Allow"] = response["Allow"]
        # Django logged the answer it built (with the traceback); without this it would log the new one again.
        shaped._has_been_logged = getattr(response, "_has_been_logged", False)  # type: ignore[attr-defined]
        return shaped

    def process_exception(self, request: HttpRequest, exception: Exception) -> None:
        """Remember the exception, so the answer can tell an unreachable dependency (503) from a bug (500); Django
        goes on to log it and build its own answer, which __call__ then reshapes."""
        if request.path.startswith(API_PREFIX):
            setattr(request, _EXCEPTION, exception)
