"""Writing people and organizations."""

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from registry.models import Affiliation, Organization, OrganizationAlias, Person, PersonEmail
from registry.normalize import fold, organization_name_key


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


def person_resolve(person: Person) -> Person:
    """Follow `merged_into` to the surviving person."""
    while person.merged_into_id is not None:
        person = person.merged_into
    return person


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
        return person_resolve(existing.person)
    key = fold(name)
    person = Person.objects.create(
        display_name=name, sort_name=(key.split()[-1] if key else ""), name_key=key, name_skeleton=key
    )
    PersonEmail.objects.create(person=person, email=email, email_key=email_key, verified_at=at)
    if organization is not None or organization_name or title:
        Affiliation.objects.create(
            person=person, organization=organization, organization_name=organization_name, title=title
        )
    return person
