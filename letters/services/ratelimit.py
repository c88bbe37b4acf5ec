"""Cache-backed fixed-window counters per client IP and per email domain (Redis when REDIS_URL is set).

Over the limit nothing is refused: the caller holds the signature for review, so a flood is never silently dropped
and a burst from one office network does not lose real signers.
"""

import ipaddress
import threading
import time
from typing import Any

from django.conf import settings
from django.core.cache import cache, caches

from config.cache import CacheUnavailable, RedisCache

# Each KEYS[i] counts one hit in a window that expires ARGV[i] seconds after its first hit.
_COUNT_HITS = """
local counts = {}
for i, key in ipairs(KEYS) do
  redis.call('SET', key, 0, 'EX', ARGV[i], 'NX')
  counts[i] = redis.call('INCR', key)
end
return counts
"""
_script: list[Any] = []  # registered once per process; each call names its client


def _hits(buckets: list[tuple[str, int, int]]) -> bool:
    """Count one hit in the current window of each (key, limit, window); True when any is over its limit.

    With Redis, every counter moves in one round trip (a script); other caches count key by key. While Redis cannot
    be reached, this process counts alone (the same limits per process: a flood is still held, signing never fails).
    """
    now = time.time()
    keys = [(f"ratelimit:{key}:{window}:{int(now // window)}", limit, window) for key, limit, window in buckets]
    backend = caches["default"]
    if isinstance(backend, RedisCache):
        try:
            counts = backend.call(lambda: _count_in_redis(backend, keys))
        except CacheUnavailable:
            counts = [local_counters.hit(bucket, window, now) for bucket, _limit, window in keys]
    else:
        counts = [_hit(bucket, window) for bucket, _limit, window in keys]
    return any(count > limit for count, (_bucket, limit, _window) in zip(counts, keys, strict=True))


def _count_in_redis(backend: RedisCache, keys: list[tuple[str, int, int]]) -> list[int]:
    client = backend._cache.get_client(write=True)
    if not _script:
        _script.append(client.register_script(_COUNT_HITS))
    return _script[0](
        keys=[backend.make_and_validate_key(bucket) for bucket, _limit, _window in keys],
        args=[window + 5 for _bucket, _limit, window in keys],
        client=client,
    )


class LocalCounters:
    """Fixed-window counters in this process, for while the shared cache is away. Bounded: expired windows go first."""

    def __init__(self, most: int = 50_000) -> None:
        self.most = most
        self._counts: dict[str, tuple[int, float]] = {}
        self._lock = threading.Lock()

    def hit(self, key: str, window: int, now: float) -> int:
        with self._lock:
            count, expires = self._counts.get(key, (0, now + window + 5))
            if expires <= now:
                count, expires = 0, now + window + 5
            self._counts[key] = (count + 1, expires)
            if len(self._counts) > self.most:
                self._counts = {k: v for k, v in self._counts.items() if v[1] > now}
                while len(self._counts) > self.most:
                    self._counts.pop(next(iter(self._counts)))
            return count + 1

    def clear(self) -> None:
        with self._lock:
            self._counts.clear()


local_counters = LocalCounters()


def _hit(bucket: str, window: int) -> int:
    cache.add(bucket, 0, timeout=window + 5)
    try:
        return cache.incr(bucket)
    except ValueError:
        cache.set(bucket, 1, timeout=window + 5)
        return 1


def signing_rate_exceeded(*, ip_address: str | None, email_key: str) -> bool:
    """Record a signing attempt; True when its IP or email domain is over a burst or sustained limit."""
    domain = email_key.rpartition("@")[2]
    checks = [("domain", domain)] + ([("ip", ip_address)] if ip_address else [])
    return _hits(
        [
            (f"sign:{kind}:{value}", limit, window)
            for kind, value in checks
            for limit, window in settings.SIGN_RATE_LIMITS[kind]
        ]
    )


def client_ip(meta: dict) -> str | None:
    """The client address: REMOTE_ADDR, or the entry NUM_PROXIES from the right of X-Forwarded-For."""
    remote = meta.get("REMOTE_ADDR") or None
    proxies = settings.NUM_PROXIES
    forwarded = meta.get("HTTP_X_FORWARDED_FOR", "")
    if proxies <= 0 or not forwarded:
        return remote
    hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
    if not hops:
        return remote
    candidate = hops[-min(proxies, len(hops))]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return remote
