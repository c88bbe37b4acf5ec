"""Writing letters: create, publish a version, open, pause, close."""

import hashlib
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from letters.models import Letter, LetterCount, LetterRecipient, LetterSponsor, LetterVersion
from letters.services.locking import letter_lock
from registry.audit import Actor, audit_log
from registry.models import Organization


class LetterWithoutVersion(Exception):
    message = "Publish the letter's text before opening it."


def body_sha256(body: str) -> str:
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


@transaction.atomic
def letter_create(
    *,
    slug: str,
    title: str,
    body: str,
    summary: str = "",
    recipients: Sequence[tuple[str, str]] = (),
    sponsors: Sequence[Organization] = (),
    created_by: Any = None,
    at: datetime | None = None,
) -> Letter:
    """Create a draft letter with version 1 of its body, its recipients (name, role) and sponsors."""
    at = at or timezone.now()
    letter = Letter.objects.create(slug=slug, title=title, summary=summary, created_by=created_by)
    LetterRecipient.objects.bulk_create(
        LetterRecipient(letter=letter, position=i, name=name, role=role) for i, (name, role) in enumerate(recipients)
    )
    LetterSponsor.objects.bulk_create(
        LetterSponsor(letter=letter, organization=org, position=i) for i, org in enumerate(sponsors)
    )
    LetterCount.objects.create(letter=letter, counted_at=at)
    letter_version_publish(letter=letter, body=body, actor=created_by, at=at)
    audit_log(action="letters.letter.created", target=letter, actor=created_by, at=at)
    return letter


@transaction.atomic
def letter_version_publish(
    *, letter: Letter, body: str, actor: Actor = None, at: datetime | None = None
) -> LetterVersion:
    """Publish a new body as the letter's current version; earlier signatures keep the version they signed."""
    at = at or timezone.now()
    letter = letter_lock(pk=letter.pk)
    last = letter.versions.order_by("-number").first()
    version = LetterVersion.objects.create(
        letter=letter, number=(last.number + 1 if last else 1), body=body, sha256=body_sha256(body), published_at=at
    )
    Letter.objects.filter(pk=letter.pk).update(current_version=version)
    audit_log(
        action="letters.letter.version_published",
        target=letter,
        actor=actor,
        data={"number": version.number, "sha256": version.sha256},
        at=at,
    )
    return version


@transaction.atomic
def letter_status_set(*, letter: Letter, status: str, actor: Actor = None, at: datetime | None = None) -> Letter:
    """Open, pause or close a letter; the first opening and the closing are timestamped."""
    at = at or timezone.now()
    letter = letter_lock(pk=letter.pk)
    if status != Letter.Status.DRAFT and letter.current_version_id is None:
        raise LetterWithoutVersion
    previous = letter.status
    letter.status = status
    if status == Letter.Status.OPEN and letter.opened_at is None:
        letter.opened_at = at
    if status == Letter.Status.CLOSED:
        letter.closed_at = at
    elif letter.closed_at is not None:
        letter.closed_at = None
    letter.save(update_fields=["status", "opened_at", "closed_at", "updated_at"])
    audit_log(
        action="letters.letter.status_changed", target=letter, actor=actor, data={"from": previous, "to": status}, at=at
    )
    return letter


LETTER_DETAILS = ("title", "summary")


@transaction.atomic
def letter_update(
    *, letter: Letter, changes: dict[str, str], actor: Actor = None, at: datetime | None = None
) -> Letter:
    """Change a letter's descriptive fields (title, summary); audited with what changed. The body changes through
    `letter_version_publish`, the status through `letter_status_set`; the slug is the letter's public address and
    does not change."""
    unknown = set(changes) - set(LETTER_DETAILS)
    if unknown:
        raise ValueError(f"Not a descriptive field of a letter: {', '.join(sorted(unknown))}")
    at = at or timezone.now()
    if not changes:
        return letter
    letter = letter_lock(pk=letter.pk)
    changed = {field: value for field, value in changes.items() if getattr(letter, field) != value}
    if not changed:
        return letter
    before = {field: getattr(letter, field) for field in changed}
    for field, value in changed.items():
        setattr(letter, field, value)
    letter.save(update_fields=[*changed, "updated_at"])
    audit_log(action="letters.letter.changed", target=letter, actor=actor, at=at, data={"from": before, "to": changed})
    return letter


def letter_parties_record(*, letter: Letter, actor: Actor = None, at: datetime | None = None) -> None:
    """Audit the letter's recipients and sponsors as they now stand (after an admin edited them)."""
    audit_log(
        action="letters.letter.parties_changed",
        target=letter,
        actor=actor,
        at=at,
        data={
            "recipients": list(letter.recipients.order_by("position").values_list("name", "role")),
            "sponsors": list(letter.sponsorships.order_by("position").values_list("organization__slug", flat=True)),
        },
    )
