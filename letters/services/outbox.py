"""The email outbox: rows written in the signing transaction, sent after commit, retried by beat until delivered.

The row records what to send (kind, address, sequence). A send goes claim → compose → send → record:
- claim: one UPDATE takes a due row (attempts + 1); a claim older than `CLAIM_TIMEOUT` belongs to a crashed worker
  and is due again, so a lost worker delays a message by under a minute;
- compose: the first claim issues the tokens, renders the body and makes the Message-ID, and commits them before the
  SMTP conversation; every later attempt resends those same bytes, so a retry or a resend after a crash never mints
  a second valid link, and a receiver sees the same Message-ID;
- record: delivered rows drop their body (it holds live tokens); a failed try schedules the next one with
  exponential backoff and jitter (`OUTBOX_RETRY_BASE_SECONDS` doubling up to `OUTBOX_RETRY_MAX_SECONDS`, over hours
  in all); after `OUTBOX_MAX_ATTEMPTS`, or when the server refuses the address for good (5xx), the row is marked
  undeliverable (`failed_at`), audited, and shown in admin and the metrics, never dropped silently.

With a broker, sends are published in batches: at most one flush task per process per second picks up every due row.
"""

import contextlib
import logging
import random
import smtplib
import threading
import time
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.mail.message import make_msgid
from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from letters.models import LetterVersion, OutboxMessage, Signature
from letters.services.emails import SUBJECTS, email_compose
from registry.audit import Actor, audit_log

logger = logging.getLogger(__name__)
FLUSH_EVERY_SECONDS = 1
PUBLISH_PAUSE_SECONDS = 5  # after the broker refused a publish, this process leaves the row to beat for a while
BATCH_SIZE = 200


def claim_timeout() -> timedelta:
    """How long a claim protects a row: longer than one SMTP conversation can last (connect and send, each bounded
    by EMAIL_TIMEOUT), shorter than a minute, so a crashed worker's row is retried within the minute."""
    return timedelta(seconds=min(55, 2 * settings.EMAIL_TIMEOUT + 5))


def outbox_enqueue(*, signature: Signature, kind: str, version: LetterVersion | None = None) -> OutboxMessage | None:
    """Write an email for `signature` unless it already had its five; send it after commit.

    Call inside the transaction that caused the email. Returns None when the per-signature cap is reached.
    `version` is the version a re-consent request asks about.
    """
    allowed = Signature.objects.filter(pk=signature.pk, emails_sent__lt=settings.SIGNATURE_MAX_EMAILS).update(
        emails_sent=F("emails_sent") + 1
    )
    if not allowed:
        return None
    signature.emails_sent += 1  # the row was updated above; the caller holds it or just created it
    message = outbox_message_build(signature=signature, kind=kind)
    message.version = version
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
    from letters import tasks  # lazy: letters.tasks imports this module

    try:
        if settings.CELERY_TASK_ALWAYS_EAGER:
            tasks.outbox_send.delay(message_id)
        elif _flush_due():
            tasks.outbox_flush.apply_async(countdown=FLUSH_EVERY_SECONDS, retry=False)
    except Exception:  # broker down: the row is in the database and beat sends it, so nothing is lost
        with _flush_lock:
            _flush["scheduled_until"] = time.monotonic() + PUBLISH_PAUSE_SECONDS
        logger.warning("Could not enqueue outbox message %s; beat's outbox_resend_stale will send it", message_id)


def outbox_waiting() -> QuerySet[OutboxMessage]:
    """Rows neither delivered nor given up on (the partial index outbox_waiting_idx covers exactly these)."""
    return OutboxMessage.objects.filter(sent_at=None, failed_at=None)


def _due(now: datetime) -> Q:
    """Waiting, its next try due, and nobody's live claim on it."""
    return (
        Q(sent_at=None, failed_at=None)
        & (Q(next_attempt_at=None) | Q(next_attempt_at__lte=now))
        & (Q(claimed_at=None) | Q(claimed_at__lt=now - claim_timeout()))
    )


def retry_delay(attempts: int) -> timedelta:
    """Exponential backoff with jitter after the `attempts`-th failed try: half to all of base × 2^(n-1), capped."""
    ceiling = min(settings.OUTBOX_RETRY_MAX_SECONDS, settings.OUTBOX_RETRY_BASE_SECONDS * 2 ** max(attempts - 1, 0))
    return timedelta(seconds=ceiling * random.uniform(0.5, 1.0))


class SmtpUnavailable(Exception):
    """The server could not be reached or dropped the conversation: the rest of a batch waits for the next round."""


def outbox_message_send(*, message_id: int, connection: Any = None) -> bool:
    """Send one message if it is due and nobody else has it; True when this call delivered it. Safe to run twice.

    Raises SmtpUnavailable when the server could not be reached (the try is recorded and rescheduled first).
    """
    now = timezone.now()
    claimed = OutboxMessage.objects.filter(_due(now), pk=message_id).update(claimed_at=now, attempts=F("attempts") + 1)
    if not claimed:
        return False
    message = OutboxMessage.objects.select_related("signature__letter", "signature__version", "version").get(
        pk=message_id
    )
    if message.signature is None and not message.body_text:  # signature deleted before its email was composed
        _record_failure(message=message, error=LookupError("the signature no longer exists"), permanent=True)
        return False
    if (moot := _moot(message)) is not None:
        OutboxMessage.objects.filter(pk=message.pk, sent_at=None).update(
            failed_at=now,
            claimed_at=None,
            next_attempt_at=None,
            last_error=f"Not sent: {moot}.",
            body_text="",
            body_html="",
        )
        return False
    if not message.body_text:
        _compose(message)
    email = EmailMultiAlternatives(
        subject=message.subject,
        body=message.body_text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[message.to_email],
        headers={"Message-ID": message.message_id},
        connection=connection,
    )
    if message.body_html:
        email.attach_alternative(message.body_html, "text/html")
    try:
        email.send()
    except (smtplib.SMTPRecipientsRefused, smtplib.SMTPDataError) as exc:
        _record_failure(message=message, error=exc, permanent=_refused_for_good(exc))
        return False
    except ValueError as exc:  # the message could not be built (BadHeaderError: a newline in a subject): not an outage
        _record_failure(message=message, error=exc, permanent=True)
        return False
    except Exception as exc:  # connection refused, timeout, dropped conversation, TLS failure
        _record_failure(message=message, error=exc, permanent=False)
        raise SmtpUnavailable(str(exc)) from exc
    # The body holds live tokens: once delivered it is not kept.
    OutboxMessage.objects.filter(pk=message_id).update(
        sent_at=timezone.now(), claimed_at=None, next_attempt_at=None, body_text="", body_html="", last_error=""
    )
    return True


# A signer's email that says something about the signature's state is not sent once that state is gone: a confirm
# link for a signature an undone import or an invalidation removed, a receipt "in the public record" for one that left.
# The signature is the one the send just loaded with its message (no query of its own).
_WRITTEN_FOR: dict[str, tuple[Callable[[Signature], bool], str]] = {
    OutboxMessage.Kind.CONFIRM: (
        lambda signature: signature.status == Signature.Status.PENDING,
        "the signature is no longer waiting for confirmation",
    ),
    OutboxMessage.Kind.RECEIPT: (
        lambda signature: signature.is_visible,
        "the signature is no longer in the public list",
    ),
}


def _moot(message: OutboxMessage) -> str | None:
    """Why `message` should not go out any more, or None."""
    if message.signature is None or message.kind not in _WRITTEN_FOR:
        return None
    still, why = _WRITTEN_FOR[message.kind]
    return None if still(message.signature) else why


def _compose(message: OutboxMessage) -> None:
    """Issue the tokens, render the body and make the Message-ID, once per message, committed before sending."""
    assert message.signature is not None  # outbox_message_send gives up on a message whose signature is gone
    with transaction.atomic():
        rendered = email_compose(signature=message.signature, kind=message.kind, version=message.version)
        message.body_text, message.body_html = rendered.text, rendered.html
        message.message_id = make_msgid(domain=settings.EMAIL_MESSAGE_ID_DOMAIN)
        message.save(update_fields=["body_text", "body_html", "message_id"])


def _refused_for_good(exc: smtplib.SMTPException) -> bool:
    """A 5xx answer about the address or the content: sending the same bytes again cannot succeed."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _text in exc.recipients.values())
    return getattr(exc, "smtp_code", 0) >= 500


def _record_failure(*, message: OutboxMessage, error: Exception, permanent: bool) -> None:
    now = timezone.now()
    error_text = f"{type(error).__name__}: {error}"[:1000]
    attempts = message.attempts  # read after the claim counted this try
    if permanent or attempts >= settings.OUTBOX_MAX_ATTEMPTS:
        # A signer's email is composed again on retry (fresh tokens), so its body goes; an organizer email (no
        # signature) exists only as its body, so it stays until sent, for "try again".
        dropped = {"body_text": "", "body_html": ""} if message.signature_id is not None else {}
        with transaction.atomic():
            OutboxMessage.objects.filter(pk=message.pk, sent_at=None).update(
                failed_at=now, claimed_at=None, next_attempt_at=None, last_error=error_text, **dropped
            )
            audit_log(
                action="letters.outbox.undeliverable",
                target=message,
                at=now,
                data={"attempts": attempts, "error": error_text, "kind": message.kind},
            )
        logger.error("Outbox message %s is undeliverable after %s attempts: %s", message.pk, attempts, error_text)
        return
    OutboxMessage.objects.filter(pk=message.pk, sent_at=None).update(
        claimed_at=None, next_attempt_at=now + retry_delay(attempts), last_error=error_text
    )
    logger.warning("Sending outbox message %s failed (attempt %s): %s", message.pk, attempts, error_text)


@transaction.atomic
def outbox_message_retry(*, message: OutboxMessage, actor: Actor = None) -> bool:
    """An admin asks for an undeliverable message to be tried again now (its tokens are issued afresh)."""
    retried = OutboxMessage.objects.filter(pk=message.pk, sent_at=None, failed_at__isnull=False).update(
        failed_at=None, attempts=0, next_attempt_at=None, claimed_at=None
    )
    if retried:
        audit_log(action="letters.outbox.retried", target=message, actor=actor)
        outbox_send_after_commit(message.pk)
    return bool(retried)


def outbox_send_due() -> int:
    """Send every due message: the flush after signing (at most once a second per process) and beat (lost enqueues,
    retries whose time has come, rows of crashed workers) both run this."""
    ids = list(
        OutboxMessage.objects.filter(_due(timezone.now())).order_by("created_at", "id").values_list("pk", flat=True)
    )[:BATCH_SIZE]
    return _send_batch(ids)


def _send_batch(ids: Iterable[int]) -> int:
    """Send over one SMTP connection; stop at the first unreachable server, leaving the rest for the next round."""
    sent = 0
    connection = get_connection()
    try:
        for message_id in ids:
            try:
                sent += outbox_message_send(message_id=message_id, connection=connection)
            except SmtpUnavailable:
                break
    finally:
        with contextlib.suppress(Exception):  # a broken connection has nothing left to close
            connection.close()
    return sent
