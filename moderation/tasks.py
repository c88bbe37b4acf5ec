"""Bulk invalidation jobs: run one (or its undo) to its end; pick up those whose worker died."""

from datetime import timedelta

from celery import shared_task
from django.utils import timezone

from moderation import alerts, services
from moderation.models import Invalidation

STALLED_AFTER = timedelta(minutes=2)


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True, time_limit=6 * 3600)
def invalidation_run(invalidation_id: int) -> None:
    services.invalidation_run(invalidation_id=invalidation_id)


@shared_task(ignore_result=True)
def invalidations_resume_stalled() -> int:
    """Beat: re-queue sweeps and undos that have not committed a batch for STALLED_AFTER."""
    stalled = Invalidation.objects.filter(
        status__in=[Invalidation.Status.QUEUED, Invalidation.Status.RUNNING, Invalidation.Status.UNDOING],
        heartbeat_at__lt=timezone.now() - STALLED_AFTER,
    ).values_list("pk", flat=True)
    count = 0
    for pk in stalled:
        invalidation_run.delay(pk)
        count += 1
    return count


@shared_task(ignore_result=True, time_limit=120, soft_time_limit=100)
def alerts_scan() -> None:
    """Beat: one pass of the trend detector (moderation.alerts)."""
    alerts.alerts_scan()
