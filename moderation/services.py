"""Bulk invalidation: preview (count and sample), start (a second confirmation past a share of the letter), run in
batches as a job with progress and cancel, undo as a job. Every step audited.

Lock order: the invalidation's row, then the batch's signatures in ascending id (letters.services.sweeps). Each batch
commits with its watermark (`last_signature_id`), so a killed worker resumes after the last committed batch.
"""

import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from importing.pacing import Pacer
from importing.selectors import signatures_of_undone_imports
from letters.models import Letter, Signature
from letters.services.sweeps import Swept, signatures_reject_bulk, signatures_restore_bulk
from moderation.criteria import criteria_clean, criteria_queryset, criteria_sha256
from moderation.models import Invalidation, InvalidationItem
from registry.audit import Actor, actor_user, audit_log

BATCH = 1000
SAMPLE = 20


class InvalidationNotAllowed(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class InvalidationPreview:
    criteria: dict[str, str]
    count: int
    live: int  # live signatures of the letter
    share: float
    needs_confirmation: bool
    sample: list[Signature]


def invalidation_preview(*, letter: Letter, criteria: Any) -> InvalidationPreview:
    """What the criteria match now (reads only); ValidationError with field errors for bad criteria."""
    clean = criteria_clean(criteria, letter=letter)
    matching = criteria_queryset(letter=letter, criteria=clean)
    count = matching.count()
    live = Signature.objects.filter(letter=letter, status__in=Signature.LIVE_STATUSES).count()
    share = count / live if live else 0.0
    sample = list(matching.select_related("organization").order_by("-signed_at", "-id")[:SAMPLE])
    return InvalidationPreview(
        criteria=clean,
        count=count,
        live=live,
        share=round(share, 4),
        needs_confirmation=share > settings.INVALIDATION_CONFIRM_SHARE,
        sample=sample,
    )


@transaction.atomic
def invalidation_start(
    *,
    letter: Letter,
    criteria: Any,
    reason: str,
    public_reason: str = "",
    confirm_large: bool = False,
    actor: Actor,
    at: datetime | None = None,
) -> Invalidation:
    """Queue an invalidation; the job runs after commit. Criteria that match more than INVALIDATION_CONFIRM_SHARE
    of the letter need `confirm_large`; nothing matching is refused."""
    at = at or timezone.now()
    errors: dict[str, list[str]] = {}
    if not reason.strip():
        errors["reason"] = ["Say why (kept in the audit trail)."]
    if len(public_reason) > 200:
        errors["public_reason"] = ["At most 200 characters."]
    if errors:
        raise ValidationError(errors)
    preview = invalidation_preview(letter=letter, criteria=criteria)
    if preview.count == 0:
        raise ValidationError({"criteria": ["No live signature matches these criteria."]})
    if preview.needs_confirmation and not confirm_large:
        raise ValidationError(
            {
                "confirm_large": [
                    f"These criteria match {preview.count} of {preview.live} signatures ({preview.share:.0%}), more "
                    f"than {settings.INVALIDATION_CONFIRM_SHARE:.0%} of the letter: confirm to go ahead."
                ]
            }
        )
    invalidation = Invalidation.objects.create(
        letter=letter,
        created_by=actor_user(actor),
        criteria=preview.criteria,
        criteria_sha256=criteria_sha256(preview.criteria),
        reason=reason.strip(),
        public_reason=public_reason.strip(),
        matched=preview.count,
        heartbeat_at=at,
    )
    audit_log(
        action="moderation.invalidation.started",
        target=invalidation,
        actor=actor,
        at=at,
        data={"letter": letter.slug, "criteria": preview.criteria, "matched": preview.count, "reason": reason},
    )
    invalidation_id = invalidation.pk
    transaction.on_commit(lambda: _enqueue(invalidation_id))
    return invalidation


def _enqueue(invalidation_id: int) -> None:
    from moderation import tasks  # tasks import this module

    tasks.invalidation_run.delay(invalidation_id)


def _lock(pk: int) -> Invalidation:
    return Invalidation.objects.select_for_update(of=("self",), no_key=True).select_related("letter").get(pk=pk)


def invalidation_run_batch(*, invalidation_id: int, batch: int = BATCH, at: datetime | None = None) -> bool:
    """One batch of the sweep (or of its undo) in one transaction. Returns True while there is more to do."""
    with transaction.atomic():
        invalidation = _lock(invalidation_id)
        at = at or timezone.now()
        if invalidation.status == Invalidation.Status.UNDOING:
            return _undo_batch(invalidation, batch=batch, at=at)
        if invalidation.status not in (Invalidation.Status.QUEUED, Invalidation.Status.RUNNING):
            return False
        if invalidation.cancel_requested:
            invalidation.status = Invalidation.Status.CANCELLED
            invalidation.finished_at = at
            invalidation.save(update_fields=["status", "finished_at"])
            audit_log(action="moderation.invalidation.cancelled", target=invalidation, at=at,
                      data={"removed": invalidation.removed})  # fmt: skip
            return False
        if invalidation.status == Invalidation.Status.QUEUED:
            invalidation.status = Invalidation.Status.RUNNING
            invalidation.started_at = at
        ids = list(
            criteria_queryset(letter=invalidation.letter, criteria=invalidation.criteria)
            .filter(pk__gt=invalidation.last_signature_id)
            .order_by("pk")
            .values_list("pk", flat=True)[:batch]
        )
        swept = signatures_reject_bulk(
            signature_ids=ids,
            reason=f"Bulk invalidation {invalidation.public_id}: {invalidation.reason}",
            public_reason=invalidation.public_reason,
            actor=invalidation.created_by,
            at=at,
            data={"invalidation": invalidation.public_id},
        )
        InvalidationItem.objects.bulk_create(
            InvalidationItem(
                invalidation=invalidation,
                signature_id=item.signature_id,
                status_before=item.status_before,
                event_id=item.event_id,
            )
            for item in swept
        )
        invalidation.removed += len(swept)
        invalidation.heartbeat_at = at
        more = len(ids) == batch
        if ids:
            invalidation.last_signature_id = ids[-1]
        if not more:
            invalidation.status = Invalidation.Status.DONE
            invalidation.finished_at = at
            audit_log(action="moderation.invalidation.finished", target=invalidation, at=at,
                      data={"removed": invalidation.removed})  # fmt: skip
        invalidation.save()
        return more


def _undo_batch(invalidation: Invalidation, *, batch: int, at: datetime) -> bool:
    items = list(
        InvalidationItem.objects.filter(invalidation=invalidation, restored_at=None, kept_at=None)
        .order_by("signature_id")
        .values_list("pk", "signature_id", "status_before", "event_id")[:batch]
    )
    undone = signatures_of_undone_imports(signature_ids=[s for _, s, _, _ in items])  # stay removed
    restored = set(
        signatures_restore_bulk(
            swept=[Swept(signature_id=s, status_before=b, event_id=e) for _, s, b, e in items if s not in undone],
            actor=invalidation.undone_by,
            at=at,
            data={"invalidation": invalidation.public_id},
        )
    )
    # Every item looked at is closed: restored, or kept removed (touched since, or the address signed again).
    InvalidationItem.objects.filter(pk__in=[pk for pk, s, _, _ in items if s in restored]).update(restored_at=at)
    InvalidationItem.objects.filter(pk__in=[pk for pk, s, _, _ in items if s not in restored]).update(kept_at=at)
    invalidation.restored += len(restored)
    invalidation.heartbeat_at = at
    more = len(items) == batch
    if not more:
        invalidation.status = Invalidation.Status.UNDONE
        invalidation.undone_at = at
        audit_log(action="moderation.invalidation.undone", target=invalidation, actor=invalidation.undone_by, at=at,
                  data={"restored": invalidation.restored, "removed": invalidation.removed})  # fmt: skip
    invalidation.save()
    return more


def invalidation_run(*, invalidation_id: int, batch: int = BATCH) -> None:
    """Run the sweep (or its undo) to its end, batch after batch; while signers are busy it sleeps
    INVALIDATION_YIELD_FACTOR times each batch's duration between batches (importing.pacing), so a launch-day sweep
    takes at most a third of its usual share of the machine by default."""
    pacer = Pacer(factor=settings.INVALIDATION_YIELD_FACTOR)
    while True:
        started = time.monotonic()
        if not invalidation_run_batch(invalidation_id=invalidation_id, batch=batch):
            return
        pacer.after_batch(time.monotonic() - started)


@transaction.atomic
def invalidation_cancel(*, invalidation: Invalidation, actor: Actor) -> Invalidation:
    """Stop a sweep before its next batch; what it removed so far stays removed (undo puts it back)."""
    invalidation = _lock(invalidation.pk)
    if invalidation.status not in (Invalidation.Status.QUEUED, Invalidation.Status.RUNNING):
        raise InvalidationNotAllowed(f"This invalidation is {invalidation.get_status_display().lower()}.")
    invalidation.cancel_requested = True
    invalidation.save(update_fields=["cancel_requested"])
    audit_log(action="moderation.invalidation.cancel_requested", target=invalidation, actor=actor)
    return invalidation


@transaction.atomic
def invalidation_undo(*, invalidation: Invalidation, actor: Actor, at: datetime | None = None) -> Invalidation:
    """Put back every signature the sweep removed that nothing has touched since; runs as a job after commit."""
    at = at or timezone.now()
    invalidation = _lock(invalidation.pk)
    if invalidation.status not in (Invalidation.Status.DONE, Invalidation.Status.CANCELLED):
        raise InvalidationNotAllowed("Only a finished or cancelled invalidation can be undone.")
    invalidation.status = Invalidation.Status.UNDOING
    invalidation.undone_by = actor_user(actor)
    invalidation.heartbeat_at = at
    invalidation.save(update_fields=["status", "undone_by", "heartbeat_at"])
    audit_log(action="moderation.invalidation.undo_started", target=invalidation, actor=actor, at=at)
    invalidation_id = invalidation.pk
    transaction.on_commit(lambda: _enqueue(invalidation_id))
    return invalidation
