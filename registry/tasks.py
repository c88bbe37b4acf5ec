"""Celery tasks for the registry: thin wrappers taking IDs; safe to run twice.

Tasks import their services; registry.duplicate_scans imports this module inside the function that enqueues (the one
lazy side of the cycle).
"""

from celery import shared_task

from registry import duplicate_scans


@shared_task(acks_late=True)
def dedup_scan_chunk(scan_id: int, chunk: int, chunks: int) -> int:
    return duplicate_scans.dedup_scan_chunk(scan_id=scan_id, chunk=chunk, chunks=chunks)


@shared_task(acks_late=True)
def person_duplicates_check(person_id: int) -> int:
    return duplicate_scans.person_duplicates_check(person_id=person_id)
