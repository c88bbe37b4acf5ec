"""Writing people and organizations: linking, candidates, aliases and domains."""

import secrets
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import slugify

from registry.audit import Actor, audit_log
from registry.duplicate_scans import person_keys_refresh
from registry.emails import domain_normalize
from registry.hooks import (
    organization_domain_participants,
    organization_link_participants,
    organization_review_participants,
)
from registry.models import Affiliation, Organization, OrganizationAlias, OrganizationDomain, Person, PersonEmail
from registry.normalize import organization_name_key, person_name_key, person_sort_name, skeleton

# What organization_update may change. Not the slug (counts are keyed by "org:<slug>": a new slug would orphan them)
# nor the status (organization_candidate_approve).
ORGANIZATION_DESCRIPTIVE_FIELDS = ("name", "kind", "website")


class OrganizationError(Exception):
    """The change would make the registry ambiguous (a name or alias another organization already has)."""


def organization_name_clash(*, name: str, exclude: Organization | None = None) -> Organization | None:
    """Another organization whose name or alias normalizes like `name` (text typed so would be ambiguous)."""
    key = organization_name_key(name)
    others = Organization.objects.exclude(pk=exclude.pk) if exclude is not None else Organization.objects.all()
    return (others.filter(name_key=key) | others.filter(aliases__name_key=key)).first() if key else None


def organization_for_name(*, name: str) -> Organization | None:
    """The organization whose normalized name or alias equals `name`'s, if any."""
    key = organization_name_key(name)
    if not key:
        return None
    organization = Organization.objects.filter(name_key=key).first()
    if organization is None:
        alias = OrganizationAlias.objects.select_related("organization").filter(name_key=key).first()
        organization = alias.organization if alias else None
    return organization


def organization_link(*, name: str) -> Organization | None:
    """Link organization text to an Organization, creating one unreviewed candidate per normalized name."""
    organization = organization_for_name(name=name)
    if organization is not None or not organization_name_key(name):
        return organization
    key = organization_name_key(name)
    base = slugify(key)[:180] or "organization"
    try:
        with transaction.atomic():
            slug = base if not Organization.objects.filter(slug=base).exists() else f"{base}-{secrets.token_hex(3)}"
            organization = Organization.objects.create(
                name=name, slug=slug, name_key=key, status=Organization.Status.CANDIDATE
            )
    except IntegrityError:  # another request created the same candidate (or took the slug) first
        return organization_for_name(name=name) or _organization_candidate_retry(name=name, key=key, base=base)
    audit_log(action="registry.organization.candidate_created", target=organization, data={"name": name})
    return organization


def _organization_candidate_retry(*, name: str, key: str, base: str) -> Organization:
    organization = Organization.objects.create(
        name=name, slug=f"{base}-{secrets.token_hex(3)}", name_key=key, status=Organization.Status.CANDIDATE
    )
    audit_log(action="registry.organization.candidate_created", target=organization, data={"name": name})
    return organization


@transaction.atomic
def organization_create(*, organization: Organization, actor: Actor = None) -> Organization:
    """Save a new reviewed organization an admin entered (`organization` unsaved: name, slug, kind, website)."""
    key = organization_name_key(organization.name)
    clash = organization_name_clash(name=organization.name)
    if not key or clash is not None:
        raise OrganizationError(f"The name links to {clash} already." if clash else "The name is empty.")
    organization.name_key = key
    organization.status = Organization.Status.REVIEWED
    organization.save(force_insert=True)
    audit_log(
        action="registry.organization.created",
        target=organization,
        actor=actor,
        data={"name": organization.name, "slug": organization.slug},
    )
    return organization


@transaction.atomic
def organization_update(*, organization: Organization, changes: dict[str, Any], actor: Actor = None) -> Organization:
    """Change descriptive fields (ORGANIZATION_DESCRIPTIVE_FIELDS); locks the organization row.

    A new name gets a new linking key, and the old name stays as an alias so text typed the old way still links here.
    """
    unknown = set(changes) - set(ORGANIZATION_DESCRIPTIVE_FIELDS)
    if unknown:
        raise OrganizationError(f"Not changeable: {', '.join(sorted(unknown))}.")
    current = Organization.objects.select_for_update(of=("self",), no_key=True).get(pk=organization.pk)
    changed = {f: {"from": getattr(current, f), "to": v} for f, v in changes.items() if getattr(current, f) != v}
    if not changed:
        return current
    if "name" in changed:
        key = organization_name_key(changes["name"])
        clash = organization_name_clash(name=changes["name"], exclude=current)
        if not key or clash is not None:
            raise OrganizationError(f"The name links to {clash} already." if clash else "The name is empty.")
        if key != current.name_key:
            OrganizationAlias.objects.get_or_create(
                name_key=current.name_key, defaults={"organization": current, "name": current.name}
            )
            current.name_key = key
    for field in changed:
        setattr(current, field, changes[field])
    current.save(update_fields=[*changed, "name_key", "updated_at"])
    audit_log(action="registry.organization.changed", target=current, actor=actor, data={"changed": changed})
    return current


@transaction.atomic
def organization_alias_add(*, organization: Organization, name: str, actor: Actor = None) -> OrganizationAlias:
    alias, _ = OrganizationAlias.objects.get_or_create(
        name_key=organization_name_key(name), defaults={"organization": organization, "name": name}
    )
    audit_log(action="registry.organization.alias_added", target=organization, actor=actor, data={"alias": name})
    return alias


@transaction.atomic
def organization_alias_remove(*, alias: OrganizationAlias, actor: Actor = None) -> None:
    """Text typed as the alias no longer links to the organization; what linked already stays linked."""
    organization = alias.organization
    deleted, _ = OrganizationAlias.objects.filter(pk=alias.pk).delete()
    if deleted:
        audit_log(
            action="registry.organization.alias_removed", target=organization, actor=actor, data={"alias": alias.name}
        )


@transaction.atomic
def organization_domain_add(
    *, organization: Organization, domain: str, verified: bool = True, actor: Actor = None, at: datetime | None = None
) -> OrganizationDomain:
    """Add (or move, or re-flag) a domain of the organization. A domain that becomes verified for it reaches the
    registered participants (registry.hooks), which prove what it proves, after the domain row is written."""
    at = at or timezone.now()
    domain = domain_normalize(domain)
    proved_before = OrganizationDomain.objects.filter(domain=domain, organization=organization, verified=True).exists()
    record, _ = OrganizationDomain.objects.update_or_create(
        domain=domain, defaults={"organization": organization, "verified": verified}
    )
    audit_log(
        action="registry.organization.domain_added",
        target=organization,
        actor=actor,
        at=at,
        data={"domain": domain, "verified": verified},
    )
    if verified and not proved_before:
        for participant in organization_domain_participants:
            participant.domain_verified(organization=organization, domain=domain, actor=actor, at=at)
    return record


@transaction.atomic
def organization_domain_remove(*, domain: OrganizationDomain, actor: Actor = None) -> None:
    """The domain proves nothing from now on; levels it proved stay (each is backed by its verification record)."""
    organization = domain.organization
    deleted, _ = OrganizationDomain.objects.filter(pk=domain.pk).delete()
    if deleted:
        audit_log(
            action="registry.organization.domain_removed",
            target=organization,
            actor=actor,
            data={"domain": domain.domain, "verified": domain.verified},
        )


@transaction.atomic
def organization_candidate_link(
    *, candidate: Organization, organization: Organization, actor: Actor = None, at: datetime | None = None
) -> None:
    """Fold an unreviewed candidate into a reviewed organization: its name becomes an alias, links move over.

    What upper layers link to the candidate (signatures) moves through their registered participants
    (registry.hooks), which lock their rows first, as the lock order says.
    """
    at = at or timezone.now()
    for participant in organization_link_participants:
        participant.lock(candidate=candidate)
    OrganizationAlias.objects.filter(organization=candidate).update(organization=organization)
    moved_people = list(Affiliation.objects.filter(organization=candidate).values_list("person_id", flat=True))
    Affiliation.objects.filter(organization=candidate).update(organization=organization)
    person_keys_refresh(person_ids=moved_people)  # their organization keys name the organization
    for participant in organization_link_participants:
        participant.link(candidate=candidate, organization=organization, actor=actor, at=at)
    name, key = candidate.name, candidate.name_key
    audit_log(
        action="registry.organization.candidate_linked",
        target=organization,
        actor=actor,
        at=at,
        data={"candidate": name, "candidate_id": candidate.pk},
    )
    candidate.delete()
    OrganizationAlias.objects.get_or_create(name_key=key, defaults={"organization": organization, "name": name})


@transaction.atomic
def organization_candidate_approve(
    *, candidate: Organization, actor: Actor = None, at: datetime | None = None
) -> Organization:
    """Make a candidate a reviewed organization: the public sees it instead of the text signers typed.

    Participants (registry.hooks) lock their rows and take their state first, then the organization row is locked and
    changed (the lock order: signatures before organizations), then they record what changed for the public.
    """
    at = at or timezone.now()
    before = [participant.lock(organization=candidate) for participant in organization_review_participants]
    organization = Organization.objects.select_for_update(of=("self",), no_key=True).get(pk=candidate.pk)
    if organization.status == Organization.Status.REVIEWED:
        return organization
    organization.status = Organization.Status.REVIEWED
    organization.save(update_fields=["status", "updated_at"])
    for participant, state in zip(organization_review_participants, before, strict=True):
        participant.organization_reviewed(organization=organization, before=state, actor=actor, at=at)
    audit_log(action="registry.organization.approved", target=organization, actor=actor, at=at)
    return organization


def person_resolve(person: Person) -> Person:
    """Follow `merged_into` to the surviving person."""
    while person.merged_into is not None:
        person = person.merged_into
    return person


def _person_lock_resolved(person_id: int) -> Person:
    """Lock the person and follow its merges to the survivor: a merge committing meanwhile is seen, so nothing is
    linked to a merged-away person. Callers hold their signature lock first (letters.services.locking order)."""
    while True:
        person = Person.objects.select_for_update(of=("self",), no_key=True).get(pk=person_id)
        if person.merged_into_id is None:
            return person
        person_id = person.merged_into_id


def person_name_fields(name: str) -> dict[str, str]:
    return {
        "display_name": name,
        "name_key": person_name_key(name)[:200],
        "sort_name": person_sort_name(name)[:200],
        "name_skeleton": skeleton(name)[:200],
    }


@transaction.atomic
def person_rename(*, person: Person, name: str, actor: Actor = None) -> Person:
    """Change the display name and the name fields matching and sorting use; locks the person row."""
    current = Person.objects.select_for_update(of=("self",), no_key=True).get(pk=person.pk)
    old = current.display_name
    if name == old:
        return current
    fields = person_name_fields(name)
    for field, value in fields.items():
        setattr(current, field, value)
    current.save(update_fields=[*fields, "updated_at"])
    person_keys_refresh(person_ids=[current.pk])
    audit_log(action="registry.person.renamed", target=current, actor=actor, data={"from": old, "to": name})
    return current


@transaction.atomic(savepoint=False)  # called inside a confirmation: no savepoint of its own
def person_for_confirmed_email(
    *,
    email: str,
    email_key: str,
    name: str,
    title: str = "",
    organization: Organization | None = None,
    organization_name: str = "",
    at: datetime | None = None,
) -> Person:
    """The person owning a just-confirmed address: an existing one with that verified email key, else a new one."""
    at = at or timezone.now()
    existing = PersonEmail.objects.filter(email_key=email_key).first()
    if existing is not None:
        person = _person_lock_resolved(existing.person_id)  # the person before its email row (lock order)
        if existing.verified_at is None:
            existing.verified_at = at
            existing.save(update_fields=["verified_at"])
    else:
        person = Person.objects.create(**person_name_fields(name))
        PersonEmail.objects.create(person=person, email=email, email_key=email_key, verified_at=at)
    if organization is not None or organization_name or title:
        affiliation = Affiliation.objects.filter(
            person=person, organization_name=organization_name, title=title, is_current=True
        ).first()
        if affiliation is None:
            Affiliation.objects.filter(person=person, is_current=True).update(is_current=False)
            Affiliation.objects.create(
                person=person, organization=organization, organization_name=organization_name, title=title
            )
    return person
