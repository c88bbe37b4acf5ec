"""The email outbox: rows written in the signing transaction, sent after commit, resent by beat if stuck.

The row records what to send (kind, address, sequence); tokens are issued and the body rendered when it is sent, so
a signing request does neither. With a broker, sends are published in batches: at most one flush task per process
per second picks up every waiting row.
"""

import logging
import threading
import time
from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from letters.models import OutboxMessage, Signature
from letters.services.emails import SUBJECTS, email_compose

logger = logging.getLogger(__name__)
STALE_AFTER = timedelta(minutes=1)
CLAIM_TIMEOUT = timedelta(minutes=5)
MAX_ATTEMPTS = 10
FLUSH_EVERY_SECONDS = 1


def outbox_enqueue(*, signature: Signature, kind: str) -> OutboxMessage | None:
    """Write an email for `signature` unless it already had its five; send it after commit.

    Call inside the transaction that caused the email. Returns None when the per-signature cap is reached.
    """
    allowed = Signature.objects.filter(pk=signature.pk, emails_sent__lt=settings.SIGNATURE_MAX_EMAILS).update(
        emails_sent=F("emails_sent") + 1
    )
    if not allowed:
        return None
    signature.emails_sent += 1  # the row was updated above; the caller holds it or just created it
    message = outbox_message_build(signature=signature, kind=kind)
    message.save(force_insert=True)
    outbox_send_after_commit(message.pk)
    return message


def outbox_message_build(*, signature: Signature, kind: str) -> OutboxMessage:
    """The unsaved row for the signature's latest email (`emails_sent` already counts it)."""
    return OutboxMessage(
        signature=signature,
        kind=kind,
        sequence=signature.emails_sent,
        to_email=signature.email,
        subject=SUBJECTS[kind],
    )


def outbox_send_after_commit(message_id: int) -> None:
    transaction.on_commit(lambda: _enqueue_send(message_id))


_flush = {"scheduled_until": 0.0}
_flush_lock = threading.Lock()


def _flush_due() -> bool:
    """True at most once a second per process: the caller then schedules one flush for every waiting row."""
    now = time.monotonic()
    with _flush_lock:
        if now < _flush["scheduled_until"]:
            return False
        _flush["scheduled_until"] = now + FLUSH_EVERY_SECONDS
        return True


def _enqueue_send(message_id: int) -> None:
    from letters.tasks import outbox_flush, outbox_send

    try:
        if settings.CELERY_TASK_ALWAYS_EAGER:
            outbox_send.delay(message_id)
        elif _flush_due():
            outbox_flush.apply_async(countdown=FLUSH_EVERY_SECONDS)
    except Exception:  # broker down: the beat task resends stale rows, so the email is not lost
        _flush["scheduled_until"] = 0.0
        logger.warning("Could not enqueue outbox message %s; it will be resent by outbox_resend_stale", message_id)


def outbox_message_send(*, message_id: int) -> bool:
    """Send one message if nobody else has it; True when this call sent it. Safe to run twice."""
    now = timezone.now()
    claimed = (
        OutboxMessage.objects.filter(pk=message_id, sent_at=None, attempts__lt=MAX_ATTEMPTS)
        .filter(Q(claimed_at=None) | Q(claimed_at__lt=now - CLAIM_TIMEOUT))
        .update(claimed_at=now, attempts=F("attempts") + 1)
    )
    if not claimed:
        return False
    message = OutboxMessage.objects.select_related("signature__letter", "signature__version").get(pk=message_id)
    if not message.body_text:
        rendered = email_compose(signature=message.signature, kind=message.kind)
        message.body_text, message.body_html = rendered.text, rendered.html
    email = EmailMultiAlternatives(
        subject=message.subject, body=message.body_text, from_email=settings.DEFAULT_FROM_EMAIL, to=[message.to_email]
    )
    if message.body_html:
        email.attach_alternative(message.body_html, "text/html")
    try:
        email.send()
    except Exception as exc:
        OutboxMessage.objects.filter(pk=message_id).update(claimed_at=None, last_error=str(exc)[:1000])
        logger.warning("Sending outbox message %s failed: %s", message_id, exc)
        raise
    # The body holds live tokens: once delivered it is not kept.
    OutboxMessage.objects.filter(pk=message_id).update(
        sent_at=timezone.now(), body_text="", body_html="", last_error=""
    )
    return True


def outbox_flush() -> int:
    """Send every waiting message (a batch task published at most once a second per process)."""
    return _send_waiting(OutboxMessage.objects.filter(sent_at=None))


def outbox_resend_stale() -> int:
    """Send every message still unsent a minute after it was written (lost enqueue, crashed worker)."""
    return _send_waiting(OutboxMessage.objects.filter(sent_at=None, created_at__lt=timezone.now() - STALE_AFTER))


def _send_waiting(messages) -> int:
    ids = list(
        messages.filter(attempts__lt=MAX_ATTEMPTS)
        .filter(Q(claimed_at=None) | Q(claimed_at__lt=timezone.now() - CLAIM_TIMEOUT))
        .order_by("id")
        .values_list("pk", flat=True)[:500]
    )
    sent = 0
    for message_id in ids:
        try:
            sent += outbox_message_send(message_id=message_id)
        except Exception:  # noqa: S112 - logged in outbox_message_send; the next beat retries
            continue
    return sent
