"""HTTP caching for public reads: short max-age with stale-while-revalidate; ETags and 304s come from Django's
ConditionalGetMiddleware (an ETag of the body), Last-Modified from the count's fold time where known."""

import hashlib
import pickle
import threading
import time
from collections import OrderedDict
from datetime import datetime

from django.conf import settings
from django.core.cache import cache, caches
from django.core.cache.backends.dummy import DummyCache
from django.core.cache.backends.locmem import LocMemCache
from django.http import HttpRequest, HttpResponse
from django.utils.http import http_date

PUBLIC_CACHE_CONTROL = "public, max-age=5, stale-while-revalidate=30"
AS_OF_CACHE_CONTROL = "public, max-age=60, stale-while-revalidate=300"


class NearCopies:
    """This process's copies of shared answers, each kept only until the expiry of the shared entry it came from
    (so no answer is older than PUBLIC_RESPONSE_CACHE_SECONDS): a hot read skips the round trip to the shared cache.
    Bounded by count and bytes, least recently used first out; an answer bigger than `largest` is not kept."""

    def __init__(self, size: int = 256, budget: int = 16 * 1024 * 1024, largest: int = 512 * 1024) -> None:
        self.size, self.budget, self.largest = size, budget, largest
        self._items: OrderedDict[str, tuple[float, bytes]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key: str, now: float) -> bytes | None:
        with self._lock:
            item = self._items.get(key)
            if item is None:
                return None
            if item[0] <= now:
                self._drop(key)
                return None
            self._items.move_to_end(key)
            return item[1]

    def put(self, key: str, expires_at: float, payload: bytes) -> None:
        if len(payload) > self.largest:
            return
        with self._lock:
            if key in self._items:
                self._drop(key)
            self._items[key] = (expires_at, payload)
            self._bytes += len(payload)
            while len(self._items) > self.size or self._bytes > self.budget:
                self._drop(next(iter(self._items)))

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._bytes = 0

    def _drop(self, key: str) -> None:
        self._bytes -= len(self._items.pop(key)[1])


near_copies = NearCopies()


def _shared_cache_is_remote() -> bool:
    """Near copies only save something when the shared cache is another process (Redis), not this one's memory."""
    return not isinstance(caches["default"], (LocMemCache, DummyCache))


def _anonymous_read(request: HttpRequest) -> bool:
    """Only reads that carry no session or credentials share answers: the same for everyone by construction."""
    return (
        request.method in ("GET", "HEAD")
        and "HTTP_AUTHORIZATION" not in request.META
        and settings.SESSION_COOKIE_NAME not in request.COOKIES
    )


def _freeze(response: HttpResponse) -> bytes:
    """The rendered answer as bytes: its body and headers, nothing of the request that made it."""
    return pickle.dumps((response.content, list(response.items())), pickle.HIGHEST_PROTOCOL)


def _thaw(payload: bytes) -> HttpResponse:
    content, headers = pickle.loads(payload)  # noqa: S301 - written by _freeze, never by a client
    response = HttpResponse(content)
    for name, value in headers:
        response[name] = value
    return response


class PublicCacheMixin:
    """For public GET views: adds Cache-Control (longer for as-of reads of the past, which rarely change).

    Views with `shared_response_cache = True` also keep their rendered answer in the shared cache for
    PUBLIC_RESPONSE_CACHE_SECONDS (well inside the 5 s staleness bound of counts), so a burst of identical reads
    costs one computation. Only anonymous JSON answers are shared (body and headers, keyed by absolute URI and
    Accept); requests with a session or credentials, and browsable HTML pages, are always computed.
    """

    shared_response_cache = False

    def dispatch(self, request, *args, **kwargs):
        seconds = settings.PUBLIC_RESPONSE_CACHE_SECONDS
        if not (seconds and self.shared_response_cache and _anonymous_read(request)):
            return super().dispatch(request, *args, **kwargs)  # type: ignore[misc]  # a mixin for APIView
        key = (
            "public-response:"
            # The absolute URI, since answers carry links built from the scheme and host they were asked on.
            + hashlib.sha256(f"{request.build_absolute_uri()}|{request.headers.get('Accept', '')}".encode()).hexdigest()
        )
        now, near = time.time(), _shared_cache_is_remote()
        payload = near_copies.get(key, now) if near else None
        if payload is None:
            shared = cache.get(key)  # (expiry, pickled response)
            if shared is not None and shared[0] > now:  # the stated expiry rules, whatever the store's TTL slack
                payload = shared[1]
                if near:
                    near_copies.put(key, shared[0], payload)
        if payload is not None:
            return _thaw(payload)
        response = super().dispatch(request, *args, **kwargs)  # type: ignore[misc]  # a mixin for APIView
        if response.status_code == 200 and not response.streaming:
            response.render()
            if not response.get("Content-Type", "").startswith("application/json"):
                return response  # a browsable page carries a CSRF token: never shared
            payload = _freeze(response)
            cache.set(key, (now + seconds, payload), timeout=seconds)
            if near:
                near_copies.put(key, now + seconds, payload)
        return response

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)  # type: ignore[misc]  # a mixin for APIView
        if request.method in ("GET", "HEAD") and response.status_code == 200 and "Cache-Control" not in response:
            response["Cache-Control"] = AS_OF_CACHE_CONTROL if request.GET.get("as_of") else PUBLIC_CACHE_CONTROL
            response.setdefault("Vary", "Accept")
        return response


def set_last_modified(response, moment: datetime | None) -> None:
    if moment is not None:
        response["Last-Modified"] = http_date(moment.timestamp())
