"""/readyz runs its checks on threads of its own, so these tests commit their data (transactional database)."""

import socket
import threading
import time
from datetime import timedelta

import pytest
import redis
from celery import current_app
from django.core.cache import caches
from django.utils import timezone

from tests.ops.conftest import created_event, outbox_message

pytestmark = pytest.mark.django_db(transaction=True)

ALL_OK = {"database": "ok", "cache": "ok", "broker": "skipped", "outbox": "ok", "count_fold": "ok"}


def readyz(client):
    response = client.get("/readyz")
    assert response["Content-Type"] == "application/json"
    assert "@" not in response.content.decode()
    return response.status_code, response.json()


def test_readyz_is_ok_naming_every_check_when_all_pass(probe_client, folded_history):
    outbox_message(age=timedelta(seconds=10))  # waiting, but young

    assert readyz(probe_client) == (200, {"status": "ok", "checks": ALL_OK})


def test_readyz_is_unavailable_naming_the_outbox_when_its_oldest_waiting_email_is_too_old(
    probe_client, folded_history, settings
):
    settings.READY_OUTBOX_MAX_AGE_SECONDS = 300
    outbox_message(age=timedelta(seconds=301))

    assert readyz(probe_client) == (
        503,
        {
            "status": "unavailable",
            "failing": ["outbox"],
            "checks": {**ALL_OK, "outbox": "Unavailable: oldest waiting email is older than 300 s"},
        },
    )


def test_readyz_ignores_old_emails_that_were_delivered_or_given_up_on(probe_client, folded_history):
    outbox_message(age=timedelta(hours=2), sent_at=timezone.now())
    outbox_message(age=timedelta(hours=2), failed_at=timezone.now())

    assert readyz(probe_client) == (200, {"status": "ok", "checks": ALL_OK})


def test_readyz_is_unavailable_naming_the_count_fold_when_an_unfolded_event_is_too_old(
    probe_client, folded_history, settings
):
    settings.READY_FOLD_MAX_LAG_SECONDS = 60
    created_event(letter=folded_history, age=timedelta(seconds=61))  # written after the last fold

    assert readyz(probe_client) == (
        503,
        {
            "status": "unavailable",
            "failing": ["count_fold"],
            "checks": {**ALL_OK, "count_fold": "Unavailable: count fold lags more than 60 s"},
        },
    )


def test_readyz_is_ok_while_unfolded_events_are_younger_than_the_limit(probe_client, folded_history):
    created_event(letter=folded_history, age=timedelta(seconds=5))

    assert readyz(probe_client) == (200, {"status": "ok", "checks": ALL_OK})


class BrokenCache:
    def set(self, *args, **kwargs):
        raise redis.ConnectionError("Error 111 connecting to 10.0.0.7:6379. Connection refused.")


def test_readyz_is_unavailable_naming_the_cache_when_it_raises(probe_client, folded_history, monkeypatch):
    monkeypatch.setattr("ops.checks.cache", BrokenCache())

    status, body = readyz(probe_client)

    assert (status, body) == (
        503,
        {
            "status": "unavailable",
            "failing": ["cache"],
            "checks": {**ALL_OK, "cache": "Unavailable: cache did not answer"},
        },
    )
    assert "10.0.0.7" not in str(body)


def test_readyz_names_the_cache_when_redis_refuses_connections(probe_client, folded_history, settings):
    """The shipped cache never raises (reads miss, writes drop while Redis is away); the check still sees it."""
    with socket.socket() as probe:  # a loopback port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings.CACHES = {"default": {"BACKEND": "config.cache.RedisCache", "LOCATION": f"redis://127.0.0.1:{port}/0"}}

    assert readyz(probe_client) == (
        503,
        {
            "status": "unavailable",
            "failing": ["cache"],
            "checks": {**ALL_OK, "cache": "Unavailable: cache did not answer"},
        },
    )


@pytest.fixture
def silent_redis():
    """A TCP server on loopback that accepts connections and never answers: a hung Redis."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.1)
        while not stop.is_set():
            try:
                accepted.append(server.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"redis://127.0.0.1:{server.getsockname()[1]}/0"
    stop.set()
    thread.join()
    for conn in accepted:  # the stuck probe thread now sees the connection close and ends
        conn.close()
    server.close()


def test_readyz_answers_within_about_two_seconds_when_redis_hangs(probe_client, folded_history, settings, silent_redis):
    settings.CACHES = {"default": {"BACKEND": "config.cache.RedisCache", "LOCATION": silent_redis}}

    started = time.monotonic()
    status, body = readyz(probe_client)
    elapsed = time.monotonic() - started

    assert (status, body) == (
        503,
        {
            "status": "unavailable",
            "failing": ["cache"],
            "checks": {**ALL_OK, "cache": "Unavailable: Timed out after 1 seconds"},
        },
    )
    assert elapsed < 5  # a hung Redis without timeouts would hang the probe for good; the bound is generous for CI
    caches["default"].close()


def test_readyz_checks_a_configured_broker_and_names_it_when_unreachable(
    probe_client, folded_history, settings, monkeypatch
):
    with socket.socket() as probe:  # a loopback port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings.CELERY_TASK_ALWAYS_EAGER = False
    # Both: once the app has connected (CI runs with a real broker), the write URL is what connections use.
    monkeypatch.setattr(current_app.conf, "broker_url", f"redis://127.0.0.1:{port}/0")
    monkeypatch.setattr(current_app.conf, "broker_write_url", f"redis://127.0.0.1:{port}/0")

    assert readyz(probe_client) == (
        503,
        {
            "status": "unavailable",
            "failing": ["broker"],
            "checks": {**ALL_OK, "broker": "Unavailable: broker did not answer"},
        },
    )


@pytest.mark.redis
def test_readyz_passes_a_reachable_broker(probe_client, folded_history, settings, monkeypatch):
    try:
        redis.Redis.from_url("redis://127.0.0.1:6379/15").ping()
    except redis.RedisError:
        pytest.skip("needs Redis on 127.0.0.1:6379")
    settings.CELERY_TASK_ALWAYS_EAGER = False
    monkeypatch.setattr(current_app.conf, "broker_url", "redis://127.0.0.1:6379/15")
    monkeypatch.setattr(current_app.conf, "broker_write_url", "redis://127.0.0.1:6379/15")

    assert readyz(probe_client) == (200, {"status": "ok", "checks": {**ALL_OK, "broker": "ok"}})
