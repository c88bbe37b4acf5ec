"""Merging duplicate people and undoing it; both audited. What upper layers own (signatures) moves through their
registered participants (registry.hooks), inside the same transaction."""

from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from registry.audit import Actor, actor_user, audit_log
from registry.duplicate_scans import person_keys_refresh
from registry.hooks import person_merge_participants
from registry.models import Affiliation, AuditEvent, DuplicateCandidate, Person, PersonEmail

MERGE_ACTION = "registry.person.merged"


class MergeError(Exception):
    pass


def _pair(a: Person, b: Person) -> Q:
    lo, hi = sorted((a.pk, b.pk))
    return Q(person_a_id=lo, person_b_id=hi)


def _people_lock(person_ids: list[int]) -> dict[int, Person]:
    """Participants' rows first (signatures), then the people, ascending id (docs/architecture.md, lock order)."""
    for participant in person_merge_participants:
        participant.lock(person_ids=sorted(person_ids))
    people = Person.objects.select_for_update(of=("self",), no_key=True).filter(pk__in=person_ids).order_by("pk")
    return {p.pk: p for p in people}


@transaction.atomic
def person_merge(
    *, survivor: Person, duplicate: Person, actor: Actor = None, reason: str = "", at: datetime | None = None
) -> Person:
    """Move the duplicate's emails and affiliations (and, through participants, its signatures) to the survivor.

    Everything moved is recorded in the audit row, so `person_unmerge` can restore it exactly.
    """
    at = at or timezone.now()
    people = _people_lock([survivor.pk, duplicate.pk])
    if survivor.pk not in people or duplicate.pk not in people or survivor.pk == duplicate.pk:
        raise MergeError("Two different people are needed.")
    survivor, duplicate = people[survivor.pk], people[duplicate.pk]
    if survivor.merged_into_id or duplicate.merged_into_id:
        raise MergeError("One of these people was already merged.")
    moved: dict[str, Any] = {
        "emails": list(PersonEmail.objects.filter(person=duplicate).values_list("pk", flat=True)),
        "affiliations": list(Affiliation.objects.filter(person=duplicate).values_list("pk", flat=True)),
        "current_affiliations": list(
            Affiliation.objects.filter(person=duplicate, is_current=True).values_list("pk", flat=True)
        ),
    }
    PersonEmail.objects.filter(pk__in=moved["emails"]).update(person=survivor)
    Affiliation.objects.filter(pk__in=moved["affiliations"]).update(person=survivor, is_current=False)
    for participant in person_merge_participants:
        moved.update(participant.merge(survivor=survivor, duplicate=duplicate, actor=actor, at=at))
    duplicate.merged_into = survivor
    duplicate.save(update_fields=["merged_into", "updated_at"])
    person_keys_refresh(person_ids=[survivor.pk, duplicate.pk])  # the duplicate's keys go, the survivor gains some
    DuplicateCandidate.objects.filter(_pair(survivor, duplicate)).update(
        status=DuplicateCandidate.Status.MERGED, decided_by=actor_user(actor), decided_at=at
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
def person_unmerge(*, duplicate: Person, actor: Actor = None, reason: str = "", at: datetime | None = None) -> Person:
    """Undo the last merge of `duplicate`: its emails, affiliations and signatures go back."""
    at = at or timezone.now()
    current = Person.objects.filter(pk=duplicate.pk).values_list("merged_into_id", flat=True).first()
    if current is None:
        raise MergeError("This person is not merged.")
    duplicate = _people_lock([duplicate.pk, current])[duplicate.pk]
    if duplicate.merged_into_id is None:
        raise MergeError("This person is not merged.")
    if duplicate.merged_into_id != current:  # merged elsewhere meanwhile: the rows locked are not the right ones
        raise MergeError("This person's merge changed meanwhile; try again.")
    record = _merge_record(duplicate)
    if record is None:
        raise MergeError("No merge record to undo.")
    moved = record.data["moved"]
    survivor_id = duplicate.merged_into_id
    PersonEmail.objects.filter(pk__in=moved["emails"]).update(person=duplicate)
    Affiliation.objects.filter(pk__in=moved["affiliations"]).update(person=duplicate)
    Affiliation.objects.filter(pk__in=moved.get("current_affiliations", [])).update(is_current=True)
    for participant in person_merge_participants:
        participant.unmerge(duplicate=duplicate, survivor_id=survivor_id, moved=moved, actor=actor, at=at)
    duplicate.merged_into = None
    duplicate.save(update_fields=["merged_into", "updated_at"])
    person_keys_refresh(person_ids=[survivor_id, duplicate.pk])
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
def duplicate_dismiss(*, candidate: DuplicateCandidate, actor: Actor = None, at: datetime | None = None) -> None:
    at = at or timezone.now()
    candidate.status = DuplicateCandidate.Status.DISMISSED
    candidate.decided_by = actor_user(actor)
    candidate.decided_at = at
    candidate.save(update_fields=["status", "decided_by", "decided_at"])
    audit_log(action="registry.duplicate.dismissed", target=candidate, actor=actor, at=at)


def duplicate_merge(*, candidate: DuplicateCandidate, actor: Actor = None) -> Person:
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
