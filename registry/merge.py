"""Merging duplicate people and undoing it. Both are audited and recorded as SignatureEvents."""

from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from letters.models import Signature, SignatureEvent
from letters.services.events import signature_event_record, signature_state
from letters.services.locking import signatures_lock
from registry.audit import audit_log
from registry.models import Affiliation, AuditEvent, DuplicateCandidate, Person, PersonEmail

MERGE_ACTION = "registry.person.merged"


class MergeError(Exception):
    pass


def _pair(a: Person, b: Person) -> Q:
    lo, hi = sorted((a.pk, b.pk))
    return Q(person_a_id=lo, person_b_id=hi)


@transaction.atomic
def person_merge(
    *, survivor: Person, duplicate: Person, actor: Any = None, reason: str = "", at: datetime | None = None
) -> Person:
    """Move the duplicate's emails, affiliations and signatures to the survivor.

    Where both signed the same letter, the earliest confirmed live signature stays and the other becomes `merged`,
    so each person counts once. Everything moved is recorded so `person_unmerge` can restore it exactly.
    """
    at = at or timezone.now()
    # Lock order (letters.services.locking): the signatures of both people, then the people.
    signatures_lock(Signature.objects.filter(person_id__in=[survivor.pk, duplicate.pk]))
    people = {
        p.pk: p
        for p in Person.objects.select_for_update(of=("self",), no_key=True)
        .filter(pk__in=[survivor.pk, duplicate.pk])
        .order_by("pk")
    }
    survivor, duplicate = people.get(survivor.pk), people.get(duplicate.pk)
    if survivor is None or duplicate is None or survivor.pk == duplicate.pk:
        raise MergeError("Two different people are needed.")
    if survivor.merged_into_id or duplicate.merged_into_id:
        raise MergeError("One of these people was already merged.")
    moved = {
        "emails": list(PersonEmail.objects.filter(person=duplicate).values_list("pk", flat=True)),
        "affiliations": list(Affiliation.objects.filter(person=duplicate).values_list("pk", flat=True)),
        "current_affiliations": list(
            Affiliation.objects.filter(person=duplicate, is_current=True).values_list("pk", flat=True)
        ),
        "signatures": list(Signature.objects.filter(person=duplicate).values_list("pk", flat=True)),
        "merged_signatures": [],
    }
    PersonEmail.objects.filter(pk__in=moved["emails"]).update(person=survivor)
    Affiliation.objects.filter(pk__in=moved["affiliations"]).update(person=survivor, is_current=False)
    Signature.objects.filter(pk__in=moved["signatures"]).update(person=survivor)
    live = Signature.objects.filter(person=survivor, status__in=Signature.LIVE_STATUSES)  # locked above
    by_letter: dict[int, list[Signature]] = {}
    for signature in live.order_by("letter_id", "confirmed_at", "id"):
        by_letter.setdefault(signature.letter_id, []).append(signature)
    for signatures in by_letter.values():
        confirmed = [s for s in signatures if s.status == Signature.Status.CONFIRMED]
        keep = confirmed[0] if confirmed else signatures[0]
        for extra in signatures:
            if extra.pk == keep.pk:
                continue
            before = signature_state(extra)
            moved["merged_signatures"].append({"id": extra.pk, "status": extra.status})
            extra.status = Signature.Status.MERGED
            extra.merged_into = keep
            extra.save(update_fields=["status", "merged_into", "updated_at"])
            signature_event_record(
                signature=extra,
                kind=SignatureEvent.Kind.MERGED,
                before=before,
                actor=actor,
                at=at,
                data={"into": keep.public_id},
            )
    duplicate.merged_into = survivor
    duplicate.save(update_fields=["merged_into", "updated_at"])
    DuplicateCandidate.objects.filter(_pair(survivor, duplicate)).update(
        status=DuplicateCandidate.Status.MERGED, decided_by=_user(actor), decided_at=at
    )
    audit_log(
        action=MERGE_ACTION,
        target=duplicate,
        actor=actor,
        at=at,
        data={"survivor": survivor.pk, "reason": reason, "moved": moved},
    )
    return survivor


@transaction.atomic
def person_unmerge(*, duplicate: Person, actor: Any = None, reason: str = "", at: datetime | None = None) -> Person:
    """Undo the last merge of `duplicate`: its emails, affiliations and signatures go back, merged ones revive."""
    at = at or timezone.now()
    record = _merge_record(duplicate)
    if record is not None:  # lock order: signatures first (ascending id), then the person
        moved_ids = record.data["moved"]["signatures"] + [e["id"] for e in record.data["moved"]["merged_signatures"]]
        signatures_lock(Signature.objects.filter(pk__in=moved_ids))
    duplicate = Person.objects.select_for_update(of=("self",), no_key=True).get(pk=duplicate.pk)
    if duplicate.merged_into_id is None:
        raise MergeError("This person is not merged.")
    if record is None:
        raise MergeError("No merge record to undo.")
    moved = record.data["moved"]
    survivor_id = duplicate.merged_into_id
    PersonEmail.objects.filter(pk__in=moved["emails"]).update(person=duplicate)
    Affiliation.objects.filter(pk__in=moved["affiliations"]).update(person=duplicate)
    Affiliation.objects.filter(pk__in=moved.get("current_affiliations", [])).update(is_current=True)
    Signature.objects.filter(pk__in=moved["signatures"]).update(person=duplicate)
    for entry in moved["merged_signatures"]:
        signature = Signature.objects.get(pk=entry["id"])  # locked above
        if signature.status != Signature.Status.MERGED:
            continue
        before = signature_state(signature)
        signature.status = entry["status"]
        signature.merged_into = None
        signature.save(update_fields=["status", "merged_into", "updated_at"])
        signature_event_record(
            signature=signature, kind=SignatureEvent.Kind.UNMERGED, before=before, actor=actor, at=at
        )
    duplicate.merged_into = None
    duplicate.save(update_fields=["merged_into", "updated_at"])
    lo, hi = sorted((duplicate.pk, survivor_id))
    DuplicateCandidate.objects.filter(person_a_id=lo, person_b_id=hi).update(
        status=DuplicateCandidate.Status.OPEN, decided_by=None, decided_at=None
    )
    audit_log(
        action="registry.person.unmerged",
        target=duplicate,
        actor=actor,
        at=at,
        data={"survivor": survivor_id, "reason": reason},
    )
    return duplicate


@transaction.atomic
def duplicate_dismiss(*, candidate: DuplicateCandidate, actor: Any = None, at: datetime | None = None) -> None:
    at = at or timezone.now()
    candidate.status = DuplicateCandidate.Status.DISMISSED
    candidate.decided_by = _user(actor)
    candidate.decided_at = at
    candidate.save(update_fields=["status", "decided_by", "decided_at"])
    audit_log(action="registry.duplicate.dismissed", target=candidate, actor=actor, at=at)


def duplicate_merge(*, candidate: DuplicateCandidate, actor: Any = None) -> Person:
    """Merge a candidate pair: the older person survives."""
    if candidate.status != DuplicateCandidate.Status.OPEN:
        raise MergeError("This candidate was already decided.")
    return person_merge(
        survivor=candidate.person_a,
        duplicate=candidate.person_b,
        actor=actor,
        reason=f"duplicate candidate {candidate.pk}",
    )


def _merge_record(duplicate: Person) -> AuditEvent | None:
    """The audit row of the person's last merge: it lists what moved, so the merge can be undone exactly."""
    return (
        AuditEvent.objects.filter(action=MERGE_ACTION, target_type="registry.person", target_id=str(duplicate.pk))
        .order_by("-at", "-id")
        .first()
    )


def _user(actor: Any) -> Any:
    return actor if getattr(actor, "pk", None) else None
