"""Redis is a cache, not a dependency: with it unreachable or hung, signing and reads still answer."""

import socket
import threading
import time

import pytest
from django.core.cache import caches

from letters.models import OutboxMessage, Signature
from letters.services.ratelimit import local_counters

pytestmark = pytest.mark.django_db


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # nothing listens there once the socket is closed


def cache_at(settings, port: int, timeout: float) -> None:
    settings.CACHES = {
        "default": {
            "BACKEND": "config.cache.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{port}/0",
            "OPTIONS": {"socket_connect_timeout": timeout, "socket_timeout": timeout},
        }
    }
    local_counters.clear()


@pytest.fixture
def redis_down(settings):
    cache_at(settings, closed_port(), 0.5)
    yield caches["default"]
    local_counters.clear()


@pytest.fixture
def redis_hung(settings):
    """A server that accepts connections and never answers, like a Redis stopped mid-flight."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    accepted = []
    stop = threading.Event()

    def accept():
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    cache_at(settings, listener.getsockname()[1], 0.3)
    yield caches["default"]
    stop.set()
    thread.join(2)
    for conn in accepted:
        conn.close()
    listener.close()


def sign(client, letter, n):
    return client.post(
        f"/api/v1/letters/{letter.slug}/signatures/",
        {"name": f"Signer {n}", "email": f"s{n}@example{n}.org"},
        content_type="application/json",
    )


def test_signing_answers_202_and_writes_its_rows_with_redis_down(client, open_letter, redis_down):
    response = sign(client, open_letter, 1)
    assert (response.status_code, response.json()) == (202, {"detail": "Check your inbox to confirm your signature."})
    signature = Signature.objects.get()
    assert signature.hold_reason == ""
    assert OutboxMessage.objects.filter(signature=signature).count() == 1


def test_rate_limits_fall_back_to_this_process_while_redis_is_down(
    client, open_letter, redis_down, settings, monkeypatch
):
    from types import SimpleNamespace

    from letters.services import ratelimit

    # The windows are fixed (a minute from :00): twelve signatures straddling a minute's end were counted in two.
    monkeypatch.setattr(ratelimit, "time", SimpleNamespace(time=lambda: 1_800_000_030.0))
    for n in range(12):
        assert sign(client, open_letter, n).status_code == 202
    held = list(Signature.objects.order_by("id").values_list("hold_reason", flat=True))
    assert held == [""] * 10 + ["rate_limited"] * 2  # SIGN_RATE_IP_BURST of 10 per minute, counted locally


def test_public_reads_answer_with_redis_down(client, open_letter, redis_down):
    for path in [
        "/api/v1/letters/",
        f"/api/v1/letters/{open_letter.slug}/",
        f"/api/v1/letters/{open_letter.slug}/signatures/",
        f"/api/v1/letters/{open_letter.slug}/stats/",
        f"/letters/{open_letter.slug}/",
    ]:
        response = client.get(path)
        assert response.status_code == 200, path


def test_the_cache_is_not_tried_again_for_a_second_after_it_failed(redis_down, monkeypatch):
    attempts = []
    original = redis_down._cache.get_client

    def counting(*args, **kwargs):
        attempts.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(redis_down._cache, "get_client", counting)
    assert redis_down.get("key", "missing") == "missing"
    assert redis_down.set("key", 1) is None
    assert redis_down.add("key", 1) is False
    assert attempts == [1]


def test_a_hung_redis_costs_a_request_one_socket_timeout_at_most(client, open_letter, redis_hung):
    started = time.monotonic()
    assert sign(client, open_letter, 1).status_code == 202
    first = time.monotonic() - started
    started = time.monotonic()
    assert client.get(f"/api/v1/letters/{open_letter.slug}/stats/").status_code == 200
    second = time.monotonic() - started
    assert first < 3 and second < 1  # generous for a loaded CI machine: without timeouts both would hang
    assert Signature.objects.count() == 1
