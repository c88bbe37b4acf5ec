"""The anonymous throttle counts atomically (exactly the rate passes, however many requests race), answers 429 in
the error shape with Retry-After, and keeps answering with a per-process limit while the shared cache is away."""

import logging
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.cache import caches
from rest_framework.test import APIRequestFactory

from api import throttling
from api.throttling import AnonRateThrottle

NOW = 1_800_000_000.0 + 10  # 10 s into a minute window (the epoch's minutes: 1,800,000,000 is one)


@pytest.fixture(autouse=True)
def _fresh_local_counters():
    throttling.local_counters.clear()
    yield
    throttling.local_counters.clear()


@pytest.fixture
def rate(settings, monkeypatch):
    """Set the anonymous rate and freeze the throttle's clock inside one window."""
    monkeypatch.setattr(AnonRateThrottle, "timer", staticmethod(lambda: NOW))

    def set_rate(value: str) -> None:
        settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"anon": value}}

    return set_rate


def anonymous(address: str):
    request = APIRequestFactory().get("/api/v1/letters/", REMOTE_ADDR=address)
    request.user = AnonymousUser()
    return request


def race(*, clients: int, attempts: int, address: str = "203.0.113.7") -> int:
    """`clients` threads each asking `attempts` times at once; how many were allowed."""
    request = anonymous(address)
    start = threading.Barrier(clients)

    def client() -> int:
        start.wait()
        return sum(AnonRateThrottle().allow_request(request, None) for _ in range(attempts))

    with ThreadPoolExecutor(clients) as pool:
        return sum(pool.map(lambda _: client(), range(clients)))


@pytest.mark.redis
def test_concurrent_clients_get_exactly_the_rate_through_on_redis(redis_cache, rate):
    rate("600/minute")
    assert race(clients=16, attempts=125) == 600
    assert race(clients=4, attempts=10, address="198.51.100.1") == 40  # another client has its own count


def test_concurrent_clients_get_exactly_the_rate_through_in_local_memory(rate):
    rate("100/minute")
    assert race(clients=16, attempts=25) == 100


def test_the_next_window_starts_over(rate, monkeypatch):
    rate("2/minute")
    request = anonymous("203.0.113.7")
    assert [AnonRateThrottle().allow_request(request, None) for _ in range(3)] == [True, True, False]
    monkeypatch.setattr(AnonRateThrottle, "timer", staticmethod(lambda: NOW + 50))
    assert AnonRateThrottle().allow_request(request, None) is True


@pytest.mark.django_db
def test_over_the_rate_is_a_429_in_the_error_shape_with_retry_after(client, rate):
    rate("2/minute")
    assert [client.get("/api/v1/organizations/").status_code for _ in range(2)] == [200, 200]
    response = client.get("/api/v1/organizations/")
    assert (response.status_code, response["Retry-After"]) == (429, "50")
    assert response.json() == {"detail": "Request was throttled. Expected available in 50 seconds.", "errors": {}}


@pytest.mark.django_db
def test_staff_are_not_throttled(staff_client, rate):
    rate("1/minute")
    assert [staff_client.get("/api/v1/organizations/").status_code for _ in range(3)] == [200, 200, 200]


@pytest.mark.django_db
@pytest.mark.parametrize("error", [ConnectionError("Connection refused"), TimeoutError("timed out")])
def test_with_the_cache_raising_the_request_answers_and_the_local_limit_applies(
    client, rate, monkeypatch, caplog, error
):
    rate("3/minute")
    backend = caches["default"]

    def unreachable(*args, **kwargs):
        raise error

    monkeypatch.setattr(backend, "add", unreachable)
    monkeypatch.setattr(backend, "incr", unreachable)
    monkeypatch.setattr(throttling, "_last_warning", [float("-inf")])
    with caplog.at_level(logging.WARNING, logger="api.throttling"):
        codes = [client.get("/api/v1/organizations/").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    warnings = [r.getMessage() for r in caplog.records if r.name == "api.throttling"]
    assert len(warnings) == 1 and "counting in this process" in warnings[0]


@pytest.mark.django_db
def test_with_redis_unreachable_the_request_answers_and_the_local_limit_applies(settings, client, rate):
    rate("2/minute")
    # A port nothing listens on: every Redis call fails to connect, as when Redis is down.
    settings.CACHES = {"default": {"BACKEND": "config.cache.RedisCache", "LOCATION": "redis://127.0.0.1:1/0"}}
    codes = [client.get("/api/v1/organizations/").status_code for _ in range(3)]
    assert codes == [200, 200, 429]


def test_the_throttle_is_the_default_class():
    from rest_framework.settings import api_settings

    assert [AnonRateThrottle] == api_settings.DEFAULT_THROTTLE_CLASSES
