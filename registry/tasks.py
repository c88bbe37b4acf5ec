"""Celery tasks for the registry: thin wrappers taking IDs; safe to run twice."""

from celery import shared_task


@shared_task(acks_late=True)
def dedup_scan_chunk(scan_id: int, chunk: int, chunks: int) -> int:
    from registry.duplicates import dedup_scan_chunk as run

    return run(scan_id=scan_id, chunk=chunk, chunks=chunks)


@shared_task(acks_late=True)
def person_duplicates_check(person_id: int) -> int:
    from registry.duplicates import person_duplicates_check as run

    return run(person_id=person_id)
