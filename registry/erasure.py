"""Erasing a person's personal data when their last signature is withdrawn (letters.services.erasure calls this)."""

from typing import Any

from django.db.models import Q

from registry.audit import audit_log
from registry.duplicate_scans import person_keys_refresh
from registry.models import Affiliation, AuditEvent, DuplicateCandidate, Person, PersonEmail

ERASED = "[erased]"
ERASED_PERSON = "Erased person"


def scrub(value: Any, secrets: list[str]) -> Any:
    """`value` (JSON) with every string that contains one of `secrets` (case-insensitively) replaced by [erased]."""
    if isinstance(value, str):
        lowered = value.casefold()
        return ERASED if any(s and s.casefold() in lowered for s in secrets) else value
    if isinstance(value, list):
        return [scrub(v, secrets) for v in value]
    if isinstance(value, dict):
        return {k: scrub(v, secrets) for k, v in value.items()}
    return value


def audit_scrub(*, targets: list[tuple[str, str]], secrets: list[str]) -> None:
    """Replace the erased strings in the audit rows of these (target type, target id) pairs."""
    match = Q(pk__in=[])
    for target_type, target_id in targets:
        match |= Q(target_type=target_type, target_id=target_id)
    for event in AuditEvent.objects.filter(match):
        cleaned = scrub(event.data, secrets)
        if cleaned != event.data:
            AuditEvent.objects.filter(pk=event.pk).update(data=cleaned)


def person_erase(*, person: Person, email_key: str, keep_person: bool, secrets: list[str]) -> None:
    """Remove `email_key` from the person's addresses; unless `keep_person` (another live signature still stands on
    it) also blank the person's names and delete its affiliations and duplicate candidates.

    Call holding the lock of the signature being erased; locks the person row (lock order step 4)."""
    Person.objects.select_for_update(of=("self",), no_key=True).filter(pk=person.pk).first()
    if email_key:
        PersonEmail.objects.filter(person=person, email_key=email_key).delete()
    if not keep_person:
        PersonEmail.objects.filter(person=person).delete()
        Affiliation.objects.filter(person=person).delete()
        DuplicateCandidate.objects.filter(Q(person_a=person) | Q(person_b=person)).delete()
        Person.objects.filter(pk=person.pk).update(
            display_name=ERASED_PERSON, sort_name="", name_key="", name_skeleton=""
        )
    person_keys_refresh(person_ids=[person.pk])  # its keys hold the erased address and names
    audit_scrub(targets=[("registry.person", str(person.pk))], secrets=secrets)
    audit_log(action="registry.person.erased", target=person, data={"whole_person": not keep_person})
