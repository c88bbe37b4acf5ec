"""Rendered public answers shared by every process for PUBLIC_RESPONSE_CACHE_SECONDS: a burst of identical
anonymous reads (an API page, the letter's HTML page) costs one computation; its lifetime is part of the counts'
staleness bound (letters.selectors.staleness_bound_seconds). Used by api.caching (JSON reads) and web.views
(public pages); it knows HTTP and the cache, no app.

Only anonymous reads share answers (no session cookie, no credentials), keyed by absolute URI and Accept, and only
answers that are the same for everyone: a 200, not streamed, setting no cookie, not varying on Cookie and with no
CSRF token rendered into it. Each process also keeps near copies of shared answers until the shared entry expires,
so a hot read skips the round trip to Redis.
"""

import functools
import hashlib
import pickle
import threading
import time
from collections import OrderedDict
from collections.abc import Callable

from django.conf import settings
from django.core.cache import cache, caches
from django.core.cache.backends.dummy import DummyCache
from django.core.cache.backends.locmem import LocMemCache
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.utils.cache import cc_delim_re


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


def anonymous_read(request: HttpRequest) -> bool:
    """Only reads that carry no session or credentials share answers: the same for everyone by construction."""
    return (
        request.method in ("GET", "HEAD")
        and "HTTP_AUTHORIZATION" not in request.META
        and settings.SESSION_COOKIE_NAME not in request.COOKIES
    )


def same_for_everyone(request: HttpRequest, response: HttpResponseBase) -> bool:
    """A 200 in full that sets no cookie, does not vary on Cookie and rendered no CSRF token."""
    vary = {v.strip().lower() for v in cc_delim_re.split(response.get("Vary", ""))}
    return (
        response.status_code == 200
        and not response.streaming
        and not response.cookies
        and "cookie" not in vary
        and not request.META.get("CSRF_COOKIE_NEEDS_UPDATE")
    )


def _key(request: HttpRequest) -> str:
    # The absolute URI, since answers carry links built from the scheme and host they were asked on.
    uri = f"{request.build_absolute_uri()}|{request.headers.get('Accept', '')}"
    return "public-response:" + hashlib.sha256(uri.encode()).hexdigest()


def _freeze(response: HttpResponse) -> bytes:
    """The rendered answer as bytes: its body and headers, nothing of the request that made it."""
    return pickle.dumps((response.content, list(response.items())), pickle.HIGHEST_PROTOCOL)


def _thaw(payload: bytes) -> HttpResponse:
    content, headers = pickle.loads(payload)  # noqa: S301 - written by _freeze, never by a client
    response = HttpResponse(content)
    for name, value in headers:
        response[name] = value
    return response


def shared_answer(request: HttpRequest, compute: Callable[[], HttpResponseBase]) -> HttpResponseBase:
    """The shared answer to this read if one is fresh, else `compute()`'s, kept for the others when it is the same
    for everyone. Reads with a session or credentials are always computed."""
    seconds = settings.PUBLIC_RESPONSE_CACHE_SECONDS
    if not (seconds and anonymous_read(request)):
        return compute()
    key = _key(request)
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
    response = compute()
    render = getattr(response, "render", None)
    if response.status_code == 200 and not response.streaming and render is not None:
        render()  # a template or DRF response: its content exists only once rendered
    if isinstance(response, HttpResponse) and same_for_everyone(request, response):
        payload = _freeze(response)
        cache.set(key, (now + seconds, payload), timeout=seconds)
        if near:
            near_copies.put(key, now + seconds, payload)
    return response


def shared_public_view(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """A function view whose anonymous answers are shared (see shared_answer). Put it innermost, under decorators
    that set headers or attributes, so they apply to shared answers too."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponseBase:
        return shared_answer(request, lambda: view(request, *args, **kwargs))

    return wrapper
