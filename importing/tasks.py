"""Import jobs: run one to its end; pick up imports whose worker died (resumed at their last committed batch);
discard uploads left in preview."""

from datetime import timedelta

from celery import shared_task
from django.utils import timezone

from importing import jobs, services
from importing.models import SignatureImport

# A running import writes its heartbeat every batch (a few seconds); one silent this long lost its worker.
STALLED_AFTER = timedelta(minutes=2)


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True, time_limit=6 * 3600)
def import_run(signature_import_id: int) -> None:
    jobs.import_run(signature_import_id=signature_import_id)


@shared_task(ignore_result=True)
def imports_resume_stalled() -> int:
    """Beat: re-queue imports that are queued or running but have not committed a batch for STALLED_AFTER."""
    stalled = SignatureImport.objects.filter(
        status__in=[SignatureImport.Status.QUEUED, SignatureImport.Status.RUNNING],
        heartbeat_at__lt=timezone.now() - STALLED_AFTER,
    ).values_list("pk", flat=True)
    count = 0
    for pk in stalled:
        import_run.delay(pk)
        count += 1
    return count


@shared_task(ignore_result=True)
def imports_previews_expire() -> int:
    """Beat: discard uploads left in preview longer than IMPORT_PREVIEW_TTL_DAYS."""
    return services.imports_previews_expire()
