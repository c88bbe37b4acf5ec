"""Writing people and organizations: linking, candidates, aliases and domains."""

import secrets
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import slugify

from registry.audit import audit_log
from registry.emails import domain_normalize
from registry.hooks import organization_link_participants
from registry.models import Affiliation, Organization, OrganizationAlias, OrganizationDomain, Person, PersonEmail
from registry.normalize import organization_name_key, person_name_key, person_sort_name, skeleton


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
def organization_alias_add(*, organization: Organization, name: str, actor: Any = None) -> OrganizationAlias:
    alias, _ = OrganizationAlias.objects.get_or_create(
        name_key=organization_name_key(name), defaults={"organization": organization, "name": name}
    )
    audit_log(action="registry.organization.alias_added", target=organization, actor=actor, data={"alias": name})
    return alias


@transaction.atomic
def organization_domain_add(
    *, organization: Organization, domain: str, verified: bool = True, actor: Any = None
) -> OrganizationDomain:
    domain = domain_normalize(domain)
    record, _ = OrganizationDomain.objects.update_or_create(
        domain=domain, defaults={"organization": organization, "verified": verified}
    )
    audit_log(
        action="registry.organization.domain_added",
        target=organization,
        actor=actor,
        data={"domain": domain, "verified": verified},
    )
    return record


@transaction.atomic
def organization_candidate_link(
    *, candidate: Organization, organization: Organization, actor: Any = None, at: datetime | None = None
) -> None:
    """Fold an unreviewed candidate into a reviewed organization: its name becomes an alias, links move over.

    What upper layers link to the candidate (signatures) moves through their registered participants
    (registry.hooks), which lock their rows first, as the lock order says.
    """
    at = at or timezone.now()
    for participant in organization_link_participants:
        participant.lock(candidate=candidate)
    OrganizationAlias.objects.filter(organization=candidate).update(organization=organization)
    Affiliation.objects.filter(organization=candidate).update(organization=organization)
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
def organization_candidate_approve(*, candidate: Organization, actor: Any = None) -> Organization:
    candidate.status = Organization.Status.REVIEWED
    candidate.save(update_fields=["status", "updated_at"])
    audit_log(action="registry.organization.approved", target=candidate, actor=actor)
    return candidate


def person_resolve(person: Person) -> Person:
    """Follow `merged_into` to the surviving person."""
    while person.merged_into_id is not None:
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
    existing = PersonEmail.objects.select_related("person").filter(email_key=email_key).first()
    if existing is not None:
        if existing.verified_at is None:
            existing.verified_at = at
            existing.save(update_fields=["verified_at"])
        person = _person_lock_resolved(existing.person_id)
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
