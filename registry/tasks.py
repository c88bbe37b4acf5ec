"""Celery tasks for the registry: thin wrappers taking IDs; safe to run twice. Routed to the "bulk" queue
(CELERY_TASK_ROUTES): none of them is waited for by a signer.

Tasks import their services; registry.duplicate_scans imports this module inside the function that enqueues (the one
lazy side of the cycle).
"""

from celery import shared_task

from registry import duplicate_scans
from registry.models import Person


@shared_task(acks_late=True)
def dedup_scan_chunk(scan_id: int, chunk: int, chunks: int) -> int:
    return duplicate_scans.dedup_scan_chunk(scan_id=scan_id, chunk=chunk, chunks=chunks)


@shared_task(acks_late=True)
def duplicates_check_requested() -> int:
    """Beat (every DEDUP_CHECK_EVERY_SECONDS): check the people confirmed since the last run, each once."""
    return duplicate_scans.duplicates_check_requested()


@shared_task(acks_late=True)
def person_duplicates_check(person_id: int | None) -> int:
    """Messages queued before confirmations asked through DuplicateCheckRequest: turned into such a request (none for
    a person gone meanwhile)."""
    if person_id is not None and Person.objects.filter(pk=person_id).exists():
        duplicate_scans.person_duplicates_check_request(person_id=person_id)
    return 0
