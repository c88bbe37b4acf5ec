"""Many signatures removed at once by a moderator's sweep (a bulk invalidation), and put back when it is undone.

Set-based forms of `signature_reject`: the signatures of one batch are locked in ascending id order (the lock order of
docs/architecture.md), changed with one UPDATE, and get their history events and audit rows in one statement each;
their export lines are refreshed in one statement too (letters.exports.export_lines_deferred), not row by row.
A restore puts back only signatures nothing has touched since the sweep (their latest event is the sweep's own) and
whose address has not signed the letter again meanwhile.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import Max

from letters.exports import export_lines_deferred
from letters.models import Signature, SignatureEvent
from letters.services.events import signature_event_build, signature_state
from letters.services.locking import signatures_lock
from registry.models import AuditEvent


@dataclass(frozen=True)
class Swept:
    signature_id: int
    status_before: str
    event_id: int


@transaction.atomic
def signatures_reject_bulk(
    *, signature_ids: list[int], reason: str, public_reason: str, actor: Any, at: datetime, data: dict[str, Any]
) -> list[Swept]:
    """Reject the still-live signatures among `signature_ids`; returns what each was and the event that removed it.
    `data` goes into each event's public history (never private details); `reason` stays private (audit)."""
    locked = signatures_lock(
        Signature.objects.filter(pk__in=signature_ids, status__in=Signature.LIVE_STATUSES).select_related(
            "organization"
        )
    )
    if not locked:
        return []
    befores = {signature.pk: (signature.status, signature_state(signature)) for signature in locked}
    ids = [s.pk for s in locked]
    with export_lines_deferred(signature_ids=ids):
        Signature.objects.filter(pk__in=ids).update(
            status=Signature.Status.REJECTED,
            rejected_at=at,
            rejection_reason=reason,
            public_removal_reason=public_reason,
        )
    events, audits = [], []
    public = {**data, "public_reason": public_reason} if public_reason else dict(data)
    for signature in locked:
        signature.status = Signature.Status.REJECTED
        signature.rejected_at = at
        signature.rejection_reason, signature.public_removal_reason = reason, public_reason
        event, audit = signature_event_build(
            signature=signature,
            kind=SignatureEvent.Kind.REJECTED,
            before=befores[signature.pk][1],
            actor=actor,
            at=at,
            data=public,
            audit_data={"reason": reason},
        )
        events.append(event)
        audits.append(audit)
    made = SignatureEvent.objects.bulk_create(events)
    AuditEvent.objects.bulk_create(audits)
    return [
        Swept(signature_id=event.signature_id, status_before=befores[event.signature_id][0], event_id=event.pk)
        for event in made
    ]


@transaction.atomic
def signatures_restore_bulk(*, swept: list[Swept], actor: Any, at: datetime, data: dict[str, Any]) -> list[int]:
    """Put back what a sweep removed, where nothing has touched it since; returns the ids restored."""
    by_id = {item.signature_id: item for item in swept}
    locked = signatures_lock(
        Signature.objects.filter(pk__in=by_id, status=Signature.Status.REJECTED).select_related("organization")
    )
    latest = dict(
        SignatureEvent.objects.filter(signature_id__in=[s.pk for s in locked])
        .values("signature_id")
        .annotate(last=Max("id"))
        .values_list("signature_id", "last")
    )
    untouched = [s for s in locked if latest.get(s.pk) == by_id[s.pk].event_id]
    taken = set(
        Signature.objects.filter(
            letter_id__in={s.letter_id for s in untouched},
            email_key__in=[s.email_key for s in untouched if s.email_key],
            status__in=Signature.LIVE_STATUSES,
        ).values_list("letter_id", "email_key")
    )
    back = [s for s in untouched if not s.email_key or (s.letter_id, s.email_key) not in taken]
    events, audits = [], []
    with export_lines_deferred(signature_ids=[s.pk for s in back]):
        for status in {by_id[s.pk].status_before for s in back}:
            ids = [s.pk for s in back if by_id[s.pk].status_before == status]
            Signature.objects.filter(pk__in=ids).update(
                status=status, rejected_at=None, rejection_reason="", public_removal_reason=""
            )
    for signature in back:
        before = signature_state(signature)
        signature.status = by_id[signature.pk].status_before
        signature.rejected_at, signature.rejection_reason, signature.public_removal_reason = None, "", ""
        event, audit = signature_event_build(
            signature=signature, kind=SignatureEvent.Kind.RESTORED, before=before, actor=actor, at=at, data=data
        )
        events.append(event)
        audits.append(audit)
    SignatureEvent.objects.bulk_create(events)
    AuditEvent.objects.bulk_create(audits)
    return [s.pk for s in back]
