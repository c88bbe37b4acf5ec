"""Writing letters: create (validated), edit a draft, publish a version (editorial or material), change status.

The lifecycle moves themselves (schedule, open, pause, close, beat's opening) live in letters.services.lifecycle.
"""

import hashlib
import logging
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from letters.models import Letter, LetterCount, LetterRecipient, LetterSponsor, LetterVersion
from letters.selectors import letter_copies_forget
from letters.services.letter_input import (
    Errors,
    body_errors,
    letter_input_raise,
    note_errors,
    recipients_clean,
    slug_errors,
    sponsors_errors,
    summary_errors,
    title_errors,
)
from letters.services.lifecycle import LetterWithoutVersion as LetterWithoutVersion  # its former home
from letters.services.lifecycle import letter_status_move
from letters.services.locking import letter_lock
from registry.audit import Actor, audit_log
from registry.models import Organization

logger = logging.getLogger(__name__)


def body_sha256(body: str) -> str:
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def _parties_errors(
    recipients: Iterable[Any], sponsors: Sequence[Organization]
) -> tuple[list[tuple[str, str]], Errors]:
    cleaned, recipient_errors = recipients_clean(recipients)
    return cleaned, {"recipients": recipient_errors, "sponsors": sponsors_errors(sponsors)}


def _parties_write(*, letter: Letter, recipients: list[tuple[str, str]], sponsors: Sequence[Organization]) -> None:
    LetterRecipient.objects.bulk_create(
        LetterRecipient(letter=letter, position=i, name=name, role=role) for i, (name, role) in enumerate(recipients)
    )
    LetterSponsor.objects.bulk_create(
        LetterSponsor(letter=letter, organization=org, position=i) for i, org in enumerate(sponsors)
    )


@transaction.atomic
def letter_create(
    *,
    slug: str,
    title: str,
    body: str,
    summary: str = "",
    recipients: Iterable[Any] = (),
    sponsors: Sequence[Organization] = (),
    created_by: Any = None,
    at: datetime | None = None,
) -> Letter:
    """Create a draft letter with version 1 ("initial") of its body, its recipients and sponsors.

    Recipients are (name, role) pairs or mappings with "name" and "role". Raises ValidationError {field: [...]}
    (slug format, reserved or taken; title; body Markdown; recipients without names; sponsors) before writing."""
    at = at or timezone.now()
    sponsors = list(sponsors)
    cleaned, errors = _parties_errors(recipients, sponsors)
    errors.update(
        slug=slug_errors(slug), title=title_errors(title), summary=summary_errors(summary), body=body_errors(body)
    )
    letter_input_raise(errors)
    try:
        with transaction.atomic():
            letter = Letter.objects.create(slug=slug, title=title.strip(), summary=summary, created_by=created_by)
    except IntegrityError:  # the same slug created meanwhile
        raise ValidationError({"slug": ["A letter with this slug already exists."]}) from None
    _parties_write(letter=letter, recipients=cleaned, sponsors=sponsors)
    LetterCount.objects.create(letter=letter, counted_at=at)
    version = LetterVersion.objects.create(
        letter=letter,
        number=1,
        kind=LetterVersion.Kind.INITIAL,
        body=body,
        sha256=body_sha256(body),
        published_at=at,
    )
    Letter.objects.filter(pk=letter.pk).update(current_version=version)
    letter.current_version = version
    _version_audit(letter=letter, version=version, actor=created_by, at=at)
    audit_log(action="letters.letter.created", target=letter, actor=created_by, at=at)
    return letter


DRAFT_FIELDS = ("title", "summary", "body", "recipients", "sponsors")


@transaction.atomic
def letter_draft_update(
    *, letter: Letter, changes: dict[str, Any], actor: Actor = None, at: datetime | None = None
) -> Letter:
    """Change a letter's title, summary, recipients or sponsors (any status but closed), and while it is a draft its
    body, which replaces version 1 in place (no one has signed a draft). Audited with what changed.

    Raises ValidationError {field: [...]} before writing: unknown fields, the checks of `letter_create`, a body
    change after the draft stage (publish a new version instead). Locks the letter row."""
    at = at or timezone.now()
    unknown = sorted(set(changes) - set(DRAFT_FIELDS))
    if unknown:
        raise ValidationError({field: ["Not a field of a letter that can be edited."] for field in unknown})
    letter = letter_lock(pk=letter.pk)
    errors: Errors = {}
    if "title" in changes:
        errors["title"] = title_errors(changes["title"])
    if "summary" in changes:
        errors["summary"] = summary_errors(changes["summary"])
    current = letter.versions.filter(pk=letter.current_version_id).first() if letter.current_version_id else None
    body_changes = "body" in changes and (current is None or changes["body"] != current.body)
    if body_changes:
        errors["body"] = body_errors(changes["body"]) or _in_place_errors(letter=letter, current=current)
    sponsors = list(changes.get("sponsors", ()))
    cleaned, parties = _parties_errors(changes.get("recipients", ()), sponsors)
    errors.update({field: parties[field] for field in ("recipients", "sponsors") if field in changes})
    if letter.status == Letter.Status.CLOSED:
        errors["__all__"] = ["This letter is closed; its text and details no longer change."]
    letter_input_raise(errors)
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    for field in ("title", "summary"):
        if field in changes and getattr(letter, field) != changes[field]:
            before[field], after[field] = (
                getattr(letter, field),
                changes[field].strip() if field == "title" else changes[field],
            )
            setattr(letter, field, after[field])
    if before:
        letter.save(update_fields=[*before, "updated_at"])
    if body_changes:
        _body_replace(letter=letter, current=current, body=changes["body"], at=at)
        before["body_sha256"], after["body_sha256"] = current.sha256 if current else None, body_sha256(changes["body"])
    parties_changed = _parties_replace(letter=letter, changes=changes, recipients=cleaned, sponsors=sponsors)
    if before:
        audit_log(
            action="letters.letter.changed", target=letter, actor=actor, at=at, data={"from": before, "to": after}
        )
    if parties_changed:
        letter_parties_record(letter=letter, actor=actor, at=at)
    return letter


def _in_place_errors(*, letter: Letter, current: LetterVersion | None) -> list[str]:
    if letter.status != Letter.Status.DRAFT:
        return ["The letter is no longer a draft: publish its new text as a new version."]
    if current is not None and current.signatures.exists():
        return ["This text has signatures: publish its new text as a new version."]
    return []


def _body_replace(*, letter: Letter, current: LetterVersion | None, body: str, at: datetime) -> None:
    if current is None:  # a draft from before every letter had a version
        version = LetterVersion.objects.create(
            letter=letter,
            number=1,
            kind=LetterVersion.Kind.INITIAL,
            body=body,
            sha256=body_sha256(body),
            published_at=at,
        )
        Letter.objects.filter(pk=letter.pk).update(current_version=version)
        letter.current_version = version
        return
    current.body, current.sha256, current.published_at = body, body_sha256(body), at
    current.save(update_fields=["body", "sha256", "published_at"])
    letter.current_version = current


def _parties_replace(
    *, letter: Letter, changes: dict[str, Any], recipients: list[tuple[str, str]], sponsors: list[Organization]
) -> bool:
    """Replace the recipients and/or sponsors given in `changes`; True when anything differs."""
    changed = False
    if "recipients" in changes:
        stored = list(letter.recipients.order_by("position", "id").values_list("name", "role"))
        if stored != recipients:
            letter.recipients.all().delete()
            _parties_write(letter=letter, recipients=recipients, sponsors=())
            changed = True
    if "sponsors" in changes:
        stored_ids = list(letter.sponsorships.order_by("position", "id").values_list("organization_id", flat=True))
        if stored_ids != [o.pk for o in sponsors]:
            letter.sponsorships.all().delete()
            _parties_write(letter=letter, recipients=[], sponsors=sponsors)
            changed = True
    return changed


VERSION_KINDS = (LetterVersion.Kind.EDITORIAL, LetterVersion.Kind.MATERIAL)


@transaction.atomic
def letter_version_publish(
    *,
    letter: Letter,
    body: str,
    kind: str,
    note: str = "",
    actor: Actor = None,
    at: datetime | None = None,
) -> LetterVersion:
    """Publish a new text as the letter's current version (scheduled, open or paused letters; a draft edits version
    1 in place with `letter_draft_update`).

    editorial: signers stay bound to the version they signed. material: every visible signer of an earlier version
    is asked by email to re-consent or withdraw (letters.services.reconsent, enqueued in batches after commit) and
    is listed as "signed version N" until then. Raises ValidationError {field: [...]} before writing. Locks the
    letter row (locking order 1)."""
    at = at or timezone.now()
    errors: Errors = {"body": body_errors(body), "note": note_errors(note)}
    if kind not in VERSION_KINDS:
        errors["kind"] = [
            "Choose editorial (a correction that keeps every signature) or material (signers re-consent)."
        ]
    letter_input_raise(errors)
    letter = letter_lock(pk=letter.pk)
    last = letter.versions.order_by("-number").first()
    if letter.status == Letter.Status.DRAFT:
        letter_input_raise(
            {"body": ["A draft's text is edited in place; versions start once it is scheduled or open."]}
        )
    if letter.status == Letter.Status.CLOSED:
        letter_input_raise({"body": ["This letter is closed; its text no longer changes."]})
    if last is not None and last.body == body:
        letter_input_raise({"body": [f"The text is the same as version {last.number}."]})
    version = LetterVersion.objects.create(
        letter=letter,
        number=(last.number + 1 if last else 1),
        kind=kind,
        note=note.strip(),
        body=body,
        sha256=body_sha256(body),
        published_at=at,
    )
    fields: dict[str, Any] = {"current_version": version}
    if kind == LetterVersion.Kind.MATERIAL:
        fields["material_version_number"] = version.number
    Letter.objects.filter(pk=letter.pk).update(**fields)
    _version_audit(letter=letter, version=version, actor=actor, at=at)
    slug = letter.slug
    transaction.on_commit(lambda: letter_copies_forget(slug=slug))
    if kind == LetterVersion.Kind.MATERIAL:
        version_id = version.pk
        transaction.on_commit(lambda: _reconsent_enqueue(version_id))
    return version


def _version_audit(*, letter: Letter, version: LetterVersion, actor: Actor, at: datetime) -> None:
    audit_log(
        action="letters.letter.version_published",
        target=letter,
        actor=actor,
        data={"number": version.number, "sha256": version.sha256, "kind": version.kind, "note": version.note},
        at=at,
    )


def _reconsent_enqueue(version_id: int) -> None:
    from letters import tasks  # lazy: tasks import the services

    try:
        tasks.letter_reconsent_request.delay(version_id)
    except Exception:  # broker down: beat's letter_reconsent_due picks the version up
        logger.warning("Could not enqueue the re-consent requests of version %s", version_id)


@transaction.atomic
def letter_status_set(*, letter: Letter, status: str, actor: Actor = None, at: datetime | None = None) -> Letter:
    """Open, pause or close a letter through its lifecycle service (letters.services.lifecycle); TransitionRefused
    for a move the lifecycle does not allow."""
    return letter_status_move(letter=letter, status=status, actor=actor, at=at)


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
