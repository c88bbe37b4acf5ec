"""Data for the probes and metrics: waiting, delivered and undeliverable emails, and history events the count fold
has or has not taken in yet. Every signer and recipient has an email address, so tests can check none leaks."""

from datetime import timedelta

import pytest
from django.utils import timezone

from letters.counts import letter_count_refresh
from letters.models import OutboxMessage, SignatureEvent
from letters.services.events import SignatureState, signature_event_record
from tests.factories import SignatureFactory

PROBE_HOST = "localhost"  # in ALLOWED_HOSTS of the test settings, as a load balancer's Host must be


def outbox_message(*, age: timedelta, **fields) -> OutboxMessage:
    message = OutboxMessage.objects.create(
        kind=OutboxMessage.Kind.CONFIRM,
        sequence=OutboxMessage.objects.count() + 1,
        to_email="recipient@example.org",
        subject="Confirm your signature",
        body_text="",
        **fields,
    )
    OutboxMessage.objects.filter(pk=message.pk).update(created_at=timezone.now() - age)
    return message


def created_event(*, letter, age: timedelta) -> SignatureEvent:
    """A new signature with its `created` history event, signed and written `age` ago."""
    at = timezone.now() - age
    signature = SignatureFactory(letter=letter, signed_at=at)
    event = signature_event_record(
        signature=signature,
        kind=SignatureEvent.Kind.CREATED,
        before=SignatureState(visible=False, level="none"),
        at=at,
    )
    SignatureEvent.objects.filter(pk=event.pk).update(recorded_at=at)
    return event


@pytest.fixture
def probe_client(client):
    client.defaults["HTTP_HOST"] = PROBE_HOST
    return client


@pytest.fixture
def folded_history(open_letter):
    """Three signatures, all folded into the letter's counts by a fold of two minutes ago (events written since are
    after its horizon); the outbox holds one delivered email."""
    for minutes in (30, 20, 10):
        created_event(letter=open_letter, age=timedelta(minutes=minutes))
    letter_count_refresh(letter_id=open_letter.pk, now=timezone.now() - timedelta(minutes=2))  # its horizon before
    outbox_message(age=timedelta(minutes=30), sent_at=timezone.now())
    return open_letter
