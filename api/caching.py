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
from django.utils.http import http_date

PUBLIC_CACHE_CONTROL = "public, max-age=5, stale-while-revalidate=30"
AS_OF_CACHE_CONTROL = "public, max-age=60, stale-while-revalidate=300"


class NearCopies:
    """This process's copies of shared answers, each kept only until the expiry of the shared entry it came from
    (so no answer is older than PUBLIC_RESPONSE_CACHE_SECONDS): a hot read skips the round trip to the shared cache.
    At most `size` answers, least recently used first out."""

    def __init__(self, size: int = 256) -> None:
        self.size = size
        self._items: OrderedDict[str, tuple[float, bytes]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str, now: float) -> bytes | None:
        with self._lock:
            item = self._items.get(key)
            if item is None:
                return None
            if item[0] <= now:
                del self._items[key]
                return None
            self._items.move_to_end(key)
            return item[1]

    def put(self, key: str, expires_at: float, payload: bytes) -> None:
        with self._lock:
            self._items[key] = (expires_at, payload)
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


near_copies = NearCopies()


def _shared_cache_is_remote() -> bool:
    """Near copies only save something when the shared cache is another process (Redis), not this one's memory."""
    return not isinstance(caches["default"], (LocMemCache, DummyCache))


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
        now, near = time.time(), _shared_cache_is_remote()
        payload = near_copies.get(key, now) if near else None
        if payload is None:
            shared = cache.get(key)  # (expiry, pickled response)
            if shared is not None and shared[0] > now:  # the stated expiry rules, whatever the store's TTL slack
                payload = shared[1]
                if near:
                    near_copies.put(key, shared[0], payload)
        if payload is not None:
            return pickle.loads(payload)  # noqa: S301 - written by this app just above, never by a client
        response = super().dispatch(request, *args, **kwargs)
        if response.status_code == 200 and not response.streaming:
            response.render()
            payload = pickle.dumps(response, pickle.HIGHEST_PROTOCOL)
            cache.set(key, (now + seconds, payload), timeout=seconds)
            if near:
                near_copies.put(key, now + seconds, payload)
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
