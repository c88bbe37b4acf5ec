"""HTTP caching for public reads: short max-age with stale-while-revalidate; ETags and 304s come from Django's
ConditionalGetMiddleware (an ETag of the body), Last-Modified from the count's fold time where known."""

import hashlib
from datetime import datetime

from django.conf import settings
from django.core.cache import cache
from django.utils.http import http_date

PUBLIC_CACHE_CONTROL = "public, max-age=5, stale-while-revalidate=30"
AS_OF_CACHE_CONTROL = "public, max-age=60, stale-while-revalidate=300"


class PublicCacheMixin:
    """For public GET views: adds Cache-Control (longer for as-of reads of the past, which rarely change).

    Views with `shared_response_cache = True` also keep their rendered answer in the shared cache for
    PUBLIC_RESPONSE_CACHE_SECONDS (well inside the 5 s staleness bound of counts), so a burst of identical reads
    costs one computation.
    """

    shared_response_cache = False

    def dispatch(self, request, *args, **kwargs):
        seconds = settings.PUBLIC_RESPONSE_CACHE_SECONDS
        if not (self.shared_response_cache and seconds and request.method in ("GET", "HEAD")):
            return super().dispatch(request, *args, **kwargs)
        key = (
            "public-response:"
            # The absolute URI, since answers carry links built from the scheme and host they were asked on.
            + hashlib.sha256(f"{request.build_absolute_uri()}|{request.headers.get('Accept', '')}".encode()).hexdigest()
        )
        response = cache.get(key)
        if response is None:
            response = super().dispatch(request, *args, **kwargs)
            if response.status_code == 200 and not response.streaming:
                response.render()
                cache.set(key, response, timeout=seconds)
        return response

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        if request.method in ("GET", "HEAD") and response.status_code == 200 and "Cache-Control" not in response:
            response["Cache-Control"] = AS_OF_CACHE_CONTROL if request.GET.get("as_of") else PUBLIC_CACHE_CONTROL
            response.setdefault("Vary", "Accept")
        return response


def set_last_modified(response, moment: datetime | None) -> None:
    if moment is not None:
        response["Last-Modified"] = http_date(moment.timestamp())
