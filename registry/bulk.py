"""Set-based versions of linking organizations and people, for imports of many signers at once.

Same rules as `registry.services.organization_link` (one unreviewed candidate per normalized name, found by name or
alias) and as `person_for_confirmed_email` (one person per address key, merges followed), in a few statements per
batch instead of several per signer. Callers hold the lock order of docs/architecture.md: these lock existing people
(ascending id) and create rows nobody else can hold yet.
"""

import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.utils.text import slugify

from registry.audit import audit_event_build
from registry.models import Affiliation, AuditEvent, Organization, OrganizationAlias, Person, PersonEmail
from registry.normalize import organization_name_key
from registry.services import person_name_fields


def organizations_link_bulk(*, names: Iterable[str], at: datetime) -> dict[str, Organization]:
    """{organization text: Organization} for every text with a normalized key, creating missing candidates."""
    by_key: dict[str, str] = {}
    for name in names:
        key = organization_name_key(name)
        if key:
            by_key.setdefault(key, name)
    found: dict[str, Organization] = {org.name_key: org for org in Organization.objects.filter(name_key__in=by_key)}
    for alias in OrganizationAlias.objects.filter(name_key__in=set(by_key) - set(found)).select_related("organization"):
        found[alias.name_key] = alias.organization
    missing = [key for key in by_key if key not in found]
    if missing:
        bases = {key: slugify(key)[:180] or "organization" for key in missing}
        taken = set(Organization.objects.filter(slug__in=set(bases.values())).values_list("slug", flat=True))
        candidates = []
        for key in missing:
            slug = bases[key]
            if slug in taken:
                slug = f"{slug}-{secrets.token_hex(3)}"
            taken.add(slug)
            candidates.append(
                Organization(name=by_key[key], slug=slug, name_key=key, status=Organization.Status.CANDIDATE)
            )
        # A concurrent signer may create the same candidate meanwhile: skip it here and read whoever won.
        Organization.objects.bulk_create(candidates, ignore_conflicts=True)
        ours = {candidate.slug for candidate in candidates}
        created = {org.name_key: org for org in Organization.objects.filter(name_key__in=missing)}
        AuditEvent.objects.bulk_create(
            audit_event_build(
                action="registry.organization.candidate_created", target=org, data={"name": org.name}, at=at
            )
            for org in created.values()
            if org.slug in ours  # created here, not by a concurrent signer
        )
        found.update(created)
    result: dict[str, Organization] = {}
    for name in names:
        key = organization_name_key(name)
        if key in found:
            result[name] = found[key]
    return result


@dataclass(frozen=True)
class PersonEntry:
    email: str
    email_key: str
    name: str
    title: str = ""
    organization: Organization | None = None
    organization_name: str = ""


def people_for_emails_bulk(
    *, entries: list[PersonEntry], verified: bool, at: datetime
) -> tuple[dict[str, Person], list[int]]:
    """{email key: Person} for every entry, and the ids of the people created.

    An address already known keeps its person (followed to the survivor of merges; locked, ascending id) and its
    affiliations; a new one gets a person, its email row — verified only if `verified` (an organizer vouching for an
    address has not proven it) — and an affiliation from the import."""
    keys = {entry.email_key: entry for entry in entries}
    known = dict(PersonEmail.objects.filter(email_key__in=keys).values_list("email_key", "person_id"))
    people: dict[str, Person] = {}
    if known:
        ids = set(known.values())
        resolved: dict[int, Person] = {}
        while ids:
            rows = list(Person.objects.select_for_update(of=("self",), no_key=True).filter(pk__in=ids).order_by("pk"))
            ids = set()
            for person in rows:
                resolved[person.pk] = person
                if person.merged_into_id is not None:
                    ids.add(person.merged_into_id)
            ids -= set(resolved)

        def survivor(person_id: int) -> Person:
            person = resolved[person_id]
            while person.merged_into_id is not None:
                person = resolved[person.merged_into_id]
            return person

        people = {key: survivor(person_id) for key, person_id in known.items()}
    new = [entry for key, entry in keys.items() if key not in known]
    created = Person.objects.bulk_create(Person(**person_name_fields(entry.name)) for entry in new)
    PersonEmail.objects.bulk_create(
        PersonEmail(person=person, email=entry.email, email_key=entry.email_key, verified_at=at if verified else None)
        for person, entry in zip(created, new, strict=True)
    )
    Affiliation.objects.bulk_create(
        Affiliation(
            person=person,
            organization=entry.organization,
            organization_name=entry.organization_name,
            title=entry.title,
            source=Affiliation.Source.IMPORT,
        )
        for person, entry in zip(created, new, strict=True)
        if entry.organization is not None or entry.organization_name or entry.title
    )
    for person, entry in zip(created, new, strict=True):
        people[entry.email_key] = person
    return people, [person.pk for person in created]
