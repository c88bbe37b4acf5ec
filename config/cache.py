"""Django's Redis cache, made a cache rather than a dependency, with one client object per connection pool.

Redis holds nothing the service needs to be correct (rendered public answers, stats, rate-limit and throttle
counters), so while it cannot be reached reads miss and writes are dropped instead of failing the request: callers
compute the answer, and counters fall back to this process (letters.services.ratelimit, api.throttling). After a
failure the cache is not tried again for `RETRY_AFTER_SECONDS`, so a Redis that hangs costs one socket timeout per
second per process, not one per request.

Django builds a `redis.Redis` for every get, set or incr; building it (its response-callback tables) costs more than
the round trip on loopback. Clients are thread-safe and share the pool, so one per pool is enough.
"""

import logging
import time
from collections.abc import Callable
from typing import Any, TypeVar

import redis
from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient as DjangoRedisCacheClient
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)
RETRY_AFTER_SECONDS = 1.0
T = TypeVar("T")


class CacheUnavailable(Exception):
    """Redis could not be reached just now (or failed within the last RETRY_AFTER_SECONDS)."""


class RedisCacheClient(DjangoRedisCacheClient):
    # Django's private members used here, left out of django-stubs (annotations only).
    _client: type[redis.Redis]
    _get_connection_pool: Callable[[bool], redis.ConnectionPool]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, object] = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients.setdefault(id(pool), self._client(connection_pool=pool))
        return client


class RedisCache(DjangoRedisCache):
    _cache: RedisCacheClient  # Django's cached_property, left out of django-stubs

    def __init__(self, server, params) -> None:
        super().__init__(server, params)
        self._class = RedisCacheClient
        self._down_until = 0.0

    def call(self, operation: Callable[[], T]) -> T:
        """Run one Redis operation; CacheUnavailable when Redis fails, or failed less than a second ago."""
        if time.monotonic() < self._down_until:
            raise CacheUnavailable
        try:
            return operation()
        except RedisError as exc:
            self._down_until = time.monotonic() + RETRY_AFTER_SECONDS
            logger.warning("Redis cache unavailable, carrying on without it for %ss: %s", RETRY_AFTER_SECONDS, exc)
            raise CacheUnavailable from exc

    def _or(self, fallback: Any, operation: Callable[[], Any]) -> Any:
        try:
            return self.call(operation)
        except CacheUnavailable:
            return fallback

    def get(self, key, default=None, version=None):
        return self._or(default, lambda: super(RedisCache, self).get(key, default, version))

    def get_many(self, keys, version=None):
        return self._or({}, lambda: super(RedisCache, self).get_many(keys, version))

    def has_key(self, key, version=None):
        return self._or(False, lambda: super(RedisCache, self).has_key(key, version))

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._or(None, lambda: super(RedisCache, self).set(key, value, timeout, version))

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._or(False, lambda: super(RedisCache, self).add(key, value, timeout, version))

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        return self._or(False, lambda: super(RedisCache, self).touch(key, timeout, version))

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        return self._or(list(data), lambda: super(RedisCache, self).set_many(data, timeout, version))

    def delete(self, key, version=None):
        return self._or(False, lambda: super(RedisCache, self).delete(key, version))

    def delete_many(self, keys, version=None):
        return self._or(None, lambda: super(RedisCache, self).delete_many(keys, version))
