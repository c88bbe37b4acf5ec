"""HTTP caching for public reads: short max-age with stale-while-revalidate; ETags and 304s come from Django's
ConditionalGetMiddleware (an ETag of the body), Last-Modified from the counts' `counted_at` (the instant they are
true at) where known."""

from datetime import datetime

from django.utils.http import http_date
from rest_framework import serializers

from config.response_cache import shared_answer
from letters.history import as_of_settled

PUBLIC_CACHE_CONTROL = "public, max-age=5, stale-while-revalidate=30"
AS_OF_CACHE_CONTROL = "public, max-age=60, stale-while-revalidate=300"


def cache_control_for(as_of: str | None) -> str:
    """The long cache only for an `as_of` whose history has settled (letters.history.as_of_settled); a recent one,
    or one up to AS_OF_SKEW in the future, can still change and is cached like a read of now."""
    if not as_of:
        return PUBLIC_CACHE_CONTROL
    try:
        instant = serializers.DateTimeField().to_internal_value(as_of)  # as the views' parameters read it
    except serializers.ValidationError:
        return PUBLIC_CACHE_CONTROL
    return AS_OF_CACHE_CONTROL if as_of_settled(instant) else PUBLIC_CACHE_CONTROL


class PublicCacheMixin:
    """For public GET views: adds Cache-Control (longer for as-of reads of a settled past, which rarely change).

    Views with `shared_response_cache = True` also share their rendered answer (config.response_cache) for
    PUBLIC_RESPONSE_CACHE_SECONDS, so a burst of identical reads costs one computation. Only anonymous JSON answers
    are shared; requests with a session or credentials, and browsable HTML pages, are always computed.
    """

    shared_response_cache = False

    def dispatch(self, request, *args, **kwargs):
        if not self.shared_response_cache:
            return super().dispatch(request, *args, **kwargs)  # type: ignore[misc]  # a mixin for APIView
        # A browsable page renders a CSRF token, so shared_answer never keeps it: only JSON is shared.
        return shared_answer(request, lambda: super(PublicCacheMixin, self).dispatch(request, *args, **kwargs))  # type: ignore[misc]

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)  # type: ignore[misc]  # a mixin for APIView
        if request.method in ("GET", "HEAD") and response.status_code == 200 and "Cache-Control" not in response:
            response["Cache-Control"] = cache_control_for(request.GET.get("as_of"))
            response.setdefault("Vary", "Accept")
        return response


def set_last_modified(response, moment: datetime | None) -> None:
    if moment is not None:
        response["Last-Modified"] = http_date(moment.timestamp())
