"""Celery tasks for letters: thin wrappers that take IDs and call services. Safe to run twice.

Tasks import their services; services that enqueue a task import this module inside the function that does it
(the one side of the cycle allowed to be lazy).
"""

from celery import shared_task

from letters import counts
from letters.services import lifecycle, outbox, privacy, reconsent


@shared_task(acks_late=True)
def outbox_send(message_id: int) -> None:
    """Send one outbox email (idempotent: a sent or claimed row is skipped)."""
    outbox.outbox_message_send(message_id=message_id)


@shared_task(acks_late=True)
def outbox_flush() -> int:
    """Send every due outbox email; published at most once a second per process after signing commits."""
    return outbox.outbox_send_due()


@shared_task(acks_late=True)
def outbox_resend_stale() -> int:
    """Beat: send every due outbox email (lost enqueues, retries whose time has come, crashed claims)."""
    return outbox.outbox_send_due()


@shared_task(acks_late=True)
def letter_counts_refresh() -> int:
    """Beat (every few seconds): fold new SignatureEvents into the per-letter aggregates."""
    return counts.letter_counts_refresh()


@shared_task(acks_late=True)
def letter_counts_reconcile() -> int:
    """Beat: recompute aggregates from the signatures and repair any drift."""
    return counts.letter_counts_reconcile()


@shared_task(acks_late=True)
def letters_open_due() -> int:
    """Beat (every 15 s): open scheduled letters whose publication time has come (each once, row locked)."""
    return lifecycle.letters_open_due()


@shared_task(acks_late=True)
def letter_reconsent_request(version_id: int) -> int:
    """After a material version commits: write its re-consent emails in batches (safe to run twice)."""
    return reconsent.reconsent_requests_send(version_id=version_id)


@shared_task(acks_late=True)
def letter_reconsent_due() -> int:
    """Beat: finish the re-consent requests of every letter's latest material version (a lost enqueue, a crash)."""
    return reconsent.reconsent_requests_due()


@shared_task(acks_late=True)
def signatures_raw_ip_expire() -> int:
    """Beat, hourly: raw client addresses past IP_RETENTION_DAYS are emptied (their keyed hashes stay)."""
    return privacy.signatures_raw_ip_expire()
