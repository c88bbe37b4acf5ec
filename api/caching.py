"""HTTP caching for public reads: short max-age with stale-while-revalidate; ETags and 304s come from Django's
ConditionalGetMiddleware (an ETag of the body), Last-Modified from the count's fold time where known."""

from datetime import datetime

from django.utils.http import http_date

PUBLIC_CACHE_CONTROL = "public, max-age=5, stale-while-revalidate=30"
AS_OF_CACHE_CONTROL = "public, max-age=60, stale-while-revalidate=300"


class PublicCacheMixin:
    """For public GET views: adds Cache-Control (longer for as-of reads of the past, which rarely change)."""

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        if request.method in ("GET", "HEAD") and response.status_code == 200 and "Cache-Control" not in response:
            response["Cache-Control"] = AS_OF_CACHE_CONTROL if request.GET.get("as_of") else PUBLIC_CACHE_CONTROL
            response.setdefault("Vary", "Accept")
        return response


def set_last_modified(response, moment: datetime | None) -> None:
    if moment is not None:
        response["Last-Modified"] = http_date(moment.timestamp())
