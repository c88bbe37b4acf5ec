"""The anonymous API throttle: a fixed window per client counted with one atomic increment.

DRF's SimpleRateThrottle reads a client's request history, appends to it and writes it back; concurrent requests
read the same history and each writes its own, so under load far more than the rate gets through (16 concurrent
clients got 1,202 of 2,000 reads through a 600/minute limit). Here every request is one increment of a counter for
its window, which the cache performs atomically (a script on Redis; add + incr under the lock of local memory), so
exactly the rate's number of requests pass per window, however many arrive at once.

When the shared cache does not answer, requests are counted per process in memory instead (the failure is logged):
the limit then holds per process rather than across them, and no request fails for it.
"""

import logging
import time
from typing import Any

import redis
from django.core.cache import caches
from django.core.exceptions import ImproperlyConfigured
from rest_framework import throttling
from rest_framework.settings import api_settings

from config.cache import CacheUnavailable, RedisCache
from letters.services.ratelimit import LocalCounters

logger = logging.getLogger(__name__)

# Count one hit in KEYS[1]; the counter lives ARGV[1] seconds from its first hit.
_COUNT_HIT = """
redis.call('SET', KEYS[1], 0, 'EX', ARGV[1], 'NX')
return redis.call('INCR', KEYS[1])
"""
_script: list[Any] = []  # registered once per process; each call names its client
# config.cache.RedisCache reports Redis failures as CacheUnavailable (and logs them); any other cache backend may
# raise its own errors (OSError covers the built-in ConnectionError and TimeoutError).
CACHE_DOWN = (CacheUnavailable, redis.RedisError, OSError)
WARN_EVERY_SECONDS = 60.0
local_counters = LocalCounters()
_last_warning = [float("-inf")]


def _shared_hit(key: str, ttl: int) -> int:
    """One hit on the shared counter `key`; its count including this hit."""
    backend = caches["default"]
    if isinstance(backend, RedisCache):
        return int(backend.call(lambda: _count_in_redis(backend, key, ttl)))
    backend.add(key, 0, timeout=ttl)
    try:
        return backend.incr(key)
    except ValueError:  # evicted between add and incr
        backend.set(key, 1, timeout=ttl)
        return 1


def _count_in_redis(backend: RedisCache, key: str, ttl: int) -> int:
    client = backend._cache.get_client(write=True)
    if not _script:
        _script.append(client.register_script(_COUNT_HIT))
    return _script[0](keys=[backend.make_and_validate_key(key)], args=[ttl], client=client)


def _warn(exc: BaseException) -> None:
    """Once a minute per process: RedisCache has logged its own failure; other backends' errors are logged here."""
    now = time.monotonic()
    if not isinstance(exc, CacheUnavailable) and now - _last_warning[0] >= WARN_EVERY_SECONDS:
        _last_warning[0] = now
        logger.warning("API throttle: shared cache unreachable (%r); counting in this process", exc)


class AnonRateThrottle(throttling.AnonRateThrottle):
    """DRF's anonymous throttle (same rate setting, client address and 429 with Retry-After), counted atomically in
    fixed windows aligned to the epoch: at most `num_requests` per window of `duration` seconds and client."""

    # Set by DRF's __init__ from the rate (read only when there is one); left out of the stubs.
    num_requests: int
    duration: int

    def get_rate(self) -> str | None:
        """Read from the settings per request (DRF keeps the value it found at import), so a changed setting holds."""
        try:
            return api_settings.DEFAULT_THROTTLE_RATES[self.scope]  # type: ignore[index,return-value]  # rate strings
        except KeyError:
            raise ImproperlyConfigured(f"No default throttle rate set for {self.scope!r} scope") from None

    def allow_request(self, request, view) -> bool:
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        self.now = self.timer()
        window = int(self.now // self.duration)
        self.window_ends_at = (window + 1) * self.duration
        return self._hit(f"{self.key}:{self.duration}:{window}") <= self.num_requests

    def _hit(self, key: str) -> int:
        try:
            return _shared_hit(key, self.duration + 1)
        except CACHE_DOWN as exc:
            _warn(exc)
            return local_counters.hit(key, self.duration, self.now)

    def wait(self) -> float:
        """Seconds until this client's window ends and its count starts over (DRF rounds it up for Retry-After)."""
        return max(self.window_ends_at - self.now, 0.0)
