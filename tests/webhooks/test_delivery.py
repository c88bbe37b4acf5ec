"""Delivery to a real receiver: signatures, retries with the same webhook-id, 410, an endpoint down then up, a slow
endpoint beside a fast one, and secret rotation."""

import time
from collections import Counter
from datetime import timedelta

import pytest
from django.utils import timezone

from letters.services.signing import signature_withdraw
from registry.models import AuditEvent
from tests.builders import signed
from tests.factories import LetterFactory
from tests.webhooks.helpers import drain, forget_queued, subscribe
from tests.webhooks.receiver import Receiver
from webhooks.delivery import deliveries_send_due
from webhooks.models import Attempt, Delivery, Endpoint
from webhooks.services import endpoint_secret_rotate

pytestmark = pytest.mark.django_db(transaction=False)


@pytest.fixture
def letter():
    letter = LetterFactory(slug="climate-now")
    forget_queued()
    return letter


def test_a_confirmed_signature_arrives_signed_with_a_thin_payload(letter, receiver):
    subscribe(letter, receiver, ["signature.confirmed"])
    signature = signed(letter, name="Ada Lovelace", email="ada@example.org", ip_address="203.0.113.9")

    assert drain() == 1

    [got] = receiver.received
    assert list(got.verified.values()) == [True]
    assert got.webhook_id.startswith("msg_")
    assert got.payload == {
        "type": "signature.confirmed",
        "timestamp": got.payload["timestamp"],
        "data": {
            "letter": "climate-now",
            "signature": signature.public_id,
            "level": "email",
            "reason": "confirmed",
            "links": {
                "letter": "https://undersigned.example/letters/climate-now/",
                "api": "https://undersigned.example/api/v1/letters/climate-now/",
                "signatures": "https://undersigned.example/api/v1/letters/climate-now/signatures/",
            },
        },
    }
    body = got.body.decode()
    for private in ("ada@example.org", "203.0.113.9", "Ada Lovelace", signature.ip_hash):
        assert private not in body
    delivery = Delivery.objects.get()
    assert (delivery.delivered_at is not None, delivery.attempts, delivery.last_status) == (True, 1, 200)


def test_500_then_200_is_retried_after_the_backoff_with_the_same_webhook_id(letter, receiver):
    receiver.script.extend([500, 200])
    endpoint = subscribe(letter, receiver, ["signature.confirmed"])
    signed(letter)
    start = timezone.now()

    assert drain(now=start) == 0
    delivery = Delivery.objects.get()
    assert delivery.attempts == 1 and delivery.delivered_at is None and delivery.last_status == 500
    wait = (delivery.next_attempt_at - start).total_seconds()
    assert 4.5 <= wait <= 5.5  # the spec's second attempt: 5 s, with jitter
    assert Endpoint.objects.get(pk=endpoint.pk).backoff_until == delivery.next_attempt_at

    assert deliveries_send_due(now=start + timedelta(seconds=2)) is None  # not yet due
    assert len(receiver.received) == 1
    assert deliveries_send_due(now=start + timedelta(seconds=6)) == 1

    assert [r.status for r in receiver.received] == [500, 200]
    assert receiver.ids() == [delivery.webhook_id] * 2
    assert all(all(r.verified.values()) for r in receiver.received)
    assert list(Attempt.objects.filter(delivery=delivery).values_list("status_code", flat=True)) == [500, 200]
    assert Endpoint.objects.get(pk=endpoint.pk).backoff_until is None


def test_410_disables_the_endpoint_and_nothing_more_is_sent(letter, receiver):
    receiver.script.append(410)
    endpoint = subscribe(letter, receiver, ["signature.confirmed", "signature.withdrawn"])
    first = signed(letter, email="one@example.org")
    drain()

    endpoint.refresh_from_db()
    assert (endpoint.active, endpoint.disabled_reason) == (False, "The receiver answered 410 Gone.")
    assert AuditEvent.objects.filter(action="webhooks.endpoint.disabled", target_id=str(endpoint.pk)).count() == 1
    assert Delivery.objects.get().failed_at is not None

    signed(letter, email="two@example.org")
    signature_withdraw(signature=first)
    drain(now=timezone.now() + timedelta(hours=1))
    assert len(receiver.received) == 1
    assert Delivery.objects.count() == 1  # a disabled endpoint gets no new deliveries


def test_an_endpoint_down_for_a_while_gets_every_event_once_when_it_is_back(letter, receiver):
    endpoint = subscribe(letter, receiver, ["signature.confirmed"])
    receiver.down()
    for n in range(6):
        signed(letter, email=f"signer{n}@example.org")
    start = timezone.now()
    drain(now=start)
    assert Attempt.objects.filter(status_code=None).count() == 4  # WEBHOOK_ENDPOINT_CONCURRENCY, then back-off
    assert "ConnectError" in Attempt.objects.first().error
    assert deliveries_send_due(now=start + timedelta(seconds=1)) is None  # backing off: nothing tried
    assert Attempt.objects.count() == 4

    deliveries_send_due(now=start + timedelta(seconds=6))  # still down: the second attempts fail too
    receiver.up()
    later = start + timedelta(minutes=10)
    for step in range(5):
        deliveries_send_due(now=later + timedelta(seconds=step))

    expected = set(Delivery.objects.filter(endpoint=endpoint).values_list("webhook_id", flat=True))
    assert len(expected) == 6
    assert sorted(receiver.ids()) == sorted(expected)  # every event, each id exactly once
    assert Delivery.objects.filter(delivered_at__isnull=False).count() == 6


def test_a_slow_endpoint_does_not_delay_another_endpoints_delivery(letter, receiver, settings):
    settings.WEBHOOK_TIMEOUT_SECONDS = 1.5
    slow = Receiver(delay=3.0)
    try:
        subscribe(letter, slow, ["signature.confirmed"])
        subscribe(letter, receiver, ["signature.confirmed"])
        signed(letter)
        started = time.monotonic()
        drain()
        took = time.monotonic() - started
        assert len(receiver.received) == 1
        assert receiver.received[0].at - started < 1.0  # the fast one did not wait for the slow one
        assert took < 3.0  # the slow one timed out at 1.5 s and is retried later
        slow_delivery = Delivery.objects.get(endpoint__url=slow.url)
        assert slow_delivery.delivered_at is None and "Timeout" in slow_delivery.last_error
    finally:
        slow.down()


def test_during_a_rotation_both_secrets_sign_and_after_the_overlap_only_the_new(letter, receiver, settings):
    endpoint = subscribe(letter, receiver, ["signature.confirmed"])
    old_secret = receiver.secrets[0]
    new_secret = endpoint_secret_rotate(endpoint=endpoint)
    receiver.secrets.append(new_secret)
    signed(letter, email="one@example.org")
    drain()
    [got] = receiver.received
    assert len(got.headers["webhook-signature"].split(" ")) == 2
    assert got.verified == {old_secret: True, new_secret: True}

    newest = endpoint_secret_rotate(endpoint=endpoint, at=timezone.now() - settings.WEBHOOK_SECRET_OVERLAP)
    receiver.secrets.append(newest)
    signed(letter, email="two@example.org")
    drain()
    second = receiver.received[1]
    assert second.verified == {old_secret: False, new_secret: False, newest: True}
    assert len(second.headers["webhook-signature"].split(" ")) == 1


def test_the_beat_task_drains_a_backlog_batch_after_batch(letter, receiver, settings):
    from webhooks.tasks import webhooks_fan_out, webhooks_send_due

    settings.WEBHOOK_ENDPOINT_CONCURRENCY = 2
    subscribe(letter, receiver, ["signature.confirmed"])
    for n in range(5):
        signed(letter, email=f"s{n}@example.org")
    webhooks_fan_out.apply()  # eager in tests: its send_due runs too
    assert len(receiver.received) == 5
    assert webhooks_send_due.apply().get() == 0


def test_the_sender_keeps_delivering_to_others_while_a_slow_endpoint_holds_its_threads(letter, receiver, settings):
    from webhooks.delivery import deliveries_send_until_done

    settings.WEBHOOK_TIMEOUT_SECONDS = 2.5
    settings.WEBHOOK_ENDPOINT_CONCURRENCY = 2
    settings.WEBHOOK_SEND_THREADS = 4
    slow = Receiver(delay=2.0)
    try:
        subscribe(letter, slow, ["signature.confirmed"])
        subscribe(letter, receiver, ["signature.confirmed"])
        for n in range(8):
            signed(letter, email=f"s{n}@example.org")
        drain_fan_out_only()
        started = time.monotonic()
        deliveries_send_until_done(budget_seconds=1.0, poll_seconds=0.05)
        fast_done = max(r.at for r in receiver.received) - started
        assert len(receiver.received) == 8  # two at a time, beside the slow endpoint's two in flight
        assert fast_done < 1.5
        assert len(slow.received) <= 4  # within its budget the slow endpoint had at most its 2 + 2
    finally:
        slow.down()


def drain_fan_out_only() -> None:
    from webhooks.fanout import announcements_fan_out

    announcements_fan_out()


def test_an_answer_for_an_endpoint_deleted_during_the_send_is_dropped(letter, receiver):
    from webhooks.delivery import _claim, attempts_record, post
    from webhooks.services import endpoint_delete

    endpoint = subscribe(letter, receiver, ["signature.confirmed"])
    signed(letter)
    drain_fan_out_only()
    [prepared] = _claim(now=timezone.now(), limit=10, busy=Counter())
    outcome = post(prepared)
    endpoint_delete(endpoint=endpoint)
    assert attempts_record([(prepared, outcome)], now=timezone.now()) == 0
    assert Attempt.objects.count() == 0
