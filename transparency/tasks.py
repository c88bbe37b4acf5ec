"""Celery tasks of the log (safe to run twice: a checkpoint is only made when the log grew)."""

from celery import shared_task

from transparency import services


@shared_task(acks_late=True)
def checkpoint_publish() -> int | None:
    """Beat: append what producers queued, then sign a checkpoint of everything appended since the last one."""
    checkpoint = services.log_sync()
    return checkpoint.size if checkpoint else None
