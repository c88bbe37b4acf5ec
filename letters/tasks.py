"""Celery tasks for letters: thin wrappers that take IDs and call services. Safe to run twice."""

from celery import shared_task


@shared_task(acks_late=True)
def outbox_send(message_id: int) -> None:
    """Send one outbox email (idempotent: a sent or claimed row is skipped)."""
    from letters.services.outbox import outbox_message_send

    outbox_message_send(message_id=message_id)


@shared_task(acks_late=True)
def outbox_flush() -> int:
    """Send every waiting outbox email; published at most once a second per process after signing commits."""
    from letters.services.outbox import outbox_flush as flush

    return flush()


@shared_task(acks_late=True)
def outbox_resend_stale() -> int:
    """Beat: send any outbox row still unsent a minute after it was written."""
    from letters.services.outbox import outbox_resend_stale as resend

    return resend()


@shared_task(acks_late=True)
def letter_counts_refresh() -> int:
    """Beat (every few seconds): fold new SignatureEvents into the per-letter aggregates."""
    from letters.counts import letter_counts_refresh as refresh

    return refresh()


@shared_task(acks_late=True)
def letter_counts_reconcile() -> int:
    """Beat: recompute aggregates from the signatures and repair any drift."""
    from letters.counts import letter_counts_reconcile as reconcile

    return reconcile()
