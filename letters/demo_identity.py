"""Identity part of the demo: protected names, a held impersonation, a duplicate pair found by dedup."""

from datetime import timedelta

from django.db import transaction

from letters.demo import DEMO_DAY1_END
from letters.models import Letter, Signature
from letters.services.signing import signature_confirm, signature_create
from registry.duplicate_scans import person_duplicates_check
from registry.emails import email_key
from registry.models import Person, ProtectedName
from registry.protected import protected_name_add

# Fictional but famous-sounding names (no real person is put on a watch list by the demo), plus the expert the
# press coverage of the letter quotes.
PROTECTED = [
    ("Marcus Vellacott", "Fictional security author; frequently impersonated"),
    ("Tobias Renwick", "Fictional CEO of a large chip maker"),
    ("Evelyn Castellanos", "Fictional former director of the national cyber agency"),
    ("Katie Moussouris", "Named in press coverage of the letter"),
]
# Cyrillic "М" and "а": looks like a protected name, so it is held for manual verification.
IMPERSONATION = (
    "Мarcus Vellаcott",
    "marcus.vellacott.security@gmail.com",
    "Security Author",
    "Harvard Kennedy School",
)
DUPLICATES = [
    ("Katherine Lindqvist", "katherine.lindqvist@adobe.com", "Principal Security Engineer", "Adobe", 1, 10),
    ("Katie Lindqvist", "katie.lindqvist@gmail.com", "Security Engineer", "Adobe Inc.", 2, 9),
]


@transaction.atomic
def identity_demo_seed(*, letter: Letter) -> None:
    """Seed the identity demo for `letter`; idempotent. Adds nothing before day 2, so day 1 still ends at 76."""
    for name, note in PROTECTED:
        if not ProtectedName.objects.filter(name=name).exists():
            protected_name_add(name=name, note=note)
    if (
        letter.status != Letter.Status.OPEN
        or Signature.objects.filter(letter=letter, email_key=email_key(IMPERSONATION[1])).exists()
    ):
        return
    for name, email, title, organization, day, hour in DUPLICATES:
        at = DEMO_DAY1_END + timedelta(days=day - 1, hours=hour)
        result = signature_create(
            letter=letter, name=name, email=email, title=title, organization_name=organization,
            send_email=False, check_rate_limits=False, at=at,
        )  # fmt: skip
        signature_confirm(signature=result.signature, at=at + timedelta(minutes=12))
    at = DEMO_DAY1_END + timedelta(days=1, hours=11)  # day 3
    name, email, title, organization = IMPERSONATION
    result = signature_create(
        letter=letter, name=name, email=email, title=title, organization_name=organization,
        send_email=False, check_rate_limits=False, at=at,
    )  # fmt: skip
    signature_confirm(signature=result.signature, at=at + timedelta(minutes=5))
    for person in Person.objects.filter(display_name__in=[d[0] for d in DUPLICATES]):
        person_duplicates_check(person_id=person.pk)
