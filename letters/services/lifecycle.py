"""A letter's life: draft → scheduled (embargo until `publish_at`) → open ⇄ paused → closed.

One table, `TRANSITIONS`, says which moves exist; each move is a service that locks the letter row (locking order 1),
checks the table, changes the status and writes one audit row ("letters.letter.status_changed", from → to).

- scheduled: the public sees nothing (Letter.objects.published() leaves it out), but trusted callers may sign under
  embargo (`signature_create(..., allow_embargoed=True)`); beat runs `letters_open_due` every few seconds and opens
  it. Signatures confirmed under embargo are counted like any other, so the count at launch includes them.
- paused: signing answers 409 (letters.services.signing.LetterNotAccepting); the page says so.
- closed: final. `closed_at` is the instant of the final count (stats as of `closed_at` stay citable: the history
  does not change, withdrawals after it show as later changes). A closed letter is never reopened: a count called
  final must stay final, so organizers who want more signatures start a new letter.
"""

from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from letters.counts import letter_count_refresh
from letters.models import Letter
from letters.selectors import letter_copies_forget
from letters.services.locking import letter_lock
from registry.audit import Actor, audit_log

Status = Letter.Status

# Every (from, to) move there is; anything else raises TransitionRefused.
TRANSITIONS: frozenset[tuple[str, str]] = frozenset(
    {
        (Status.DRAFT, Status.SCHEDULED),
        (Status.SCHEDULED, Status.SCHEDULED),  # a new publication time
        (Status.DRAFT, Status.OPEN),  # launch now
        (Status.SCHEDULED, Status.OPEN),  # launch early, or beat at publish_at
        (Status.OPEN, Status.PAUSED),
        (Status.PAUSED, Status.OPEN),  # resume
        (Status.OPEN, Status.CLOSED),
        (Status.PAUSED, Status.CLOSED),
    }
)
SCHEDULE_AHEAD_MAX = timedelta(days=366)


class TransitionRefused(Exception):
    """The letter cannot move from its status to the one asked for (or lacks what the move needs)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class LetterWithoutVersion(TransitionRefused):
    """A letter without a text (a draft from before every letter had one) cannot be scheduled or opened."""

    def __init__(self) -> None:
        super().__init__("Publish the letter's text before scheduling or opening it.")


def transition_allowed(*, current: str, target: str) -> bool:
    return (current, target) in TRANSITIONS


def transition_check(*, letter: Letter, target: str) -> None:
    """Raise TransitionRefused unless `letter` may move to `target` (read on the locked row)."""
    if not transition_allowed(current=letter.status, target=target):
        current, wanted = Status(letter.status).label.lower(), Status(target).label.lower()
        if letter.status == Status.CLOSED:
            raise TransitionRefused("This letter is closed; a closed letter is final and cannot change status.")
        raise TransitionRefused(f"A letter that is {current} cannot become {wanted}.")
    if target != Status.DRAFT and letter.current_version_id is None:
        raise LetterWithoutVersion


def _move(
    *, letter: Letter, target: str, actor: Actor, at: datetime, fields: dict[str, object], data: dict | None = None
) -> Letter:
    previous = letter.status
    letter.status = target
    for name, value in fields.items():
        setattr(letter, name, value)
    letter.save(update_fields=["status", *fields, "updated_at"])
    audit_log(
        action="letters.letter.status_changed",
        target=letter,
        actor=actor,
        data={"from": previous, "to": target, **(data or {})},
        at=at,
    )
    _forget_copies(letter.slug)
    return letter


def _forget_copies(slug: str) -> None:
    """This process's copy of the letter (letters.selectors) is dropped once the change commits."""
    transaction.on_commit(lambda: letter_copies_forget(slug=slug))


def publish_at_errors(publish_at: object, *, now: datetime) -> list[str]:
    if not isinstance(publish_at, datetime) or timezone.is_naive(publish_at):
        return ["A publication time with its time zone is required."]
    if publish_at <= now:
        return ["The publication time must be in the future."]
    if publish_at > now + SCHEDULE_AHEAD_MAX:
        return ["The publication time must be within a year."]
    return []


@transaction.atomic
def letter_schedule(*, letter: Letter, publish_at: datetime, actor: Actor = None, at: datetime | None = None) -> Letter:
    """Embargo a draft (or move a scheduled letter's time): beat opens it at `publish_at`.

    Raises ValidationError {"publish_at": [...]} for a time that is not in the future, TransitionRefused for a
    letter that is open, paused or closed. Locks the letter row."""
    at = at or timezone.now()
    errors = publish_at_errors(publish_at, now=at)
    if errors:
        raise ValidationError({"publish_at": errors})
    letter = letter_lock(pk=letter.pk)
    transition_check(letter=letter, target=Status.SCHEDULED)
    return _move(
        letter=letter,
        target=Status.SCHEDULED,
        actor=actor,
        at=at,
        fields={"publish_at": publish_at},
        data={"publish_at": publish_at.isoformat()},
    )


@transaction.atomic
def letter_open(*, letter: Letter, actor: Actor = None, at: datetime | None = None) -> Letter:
    """Launch a draft or scheduled letter now, or resume a paused one. The first opening sets `opened_at`."""
    at = at or timezone.now()
    letter = letter_lock(pk=letter.pk)
    transition_check(letter=letter, target=Status.OPEN)
    return _open_locked(letter=letter, actor=actor, at=at)


def _open_locked(*, letter: Letter, actor: Actor, at: datetime) -> Letter:
    fields: dict[str, object] = {"opened_at": letter.opened_at or at}
    opened = _move(letter=letter, target=Status.OPEN, actor=actor, at=at, fields=fields)
    # The first public read after launch shows everyone who signed under embargo, not the count of the last fold.
    letter_id = letter.pk
    transaction.on_commit(lambda: letter_count_refresh(letter_id=letter_id))
    return opened


@transaction.atomic
def letter_pause(*, letter: Letter, actor: Actor = None, at: datetime | None = None) -> Letter:
    """Stop signing for now (signing answers 409 until `letter_open` resumes it)."""
    at = at or timezone.now()
    letter = letter_lock(pk=letter.pk)
    transition_check(letter=letter, target=Status.PAUSED)
    return _move(letter=letter, target=Status.PAUSED, actor=actor, at=at, fields={})


@transaction.atomic
def letter_close(*, letter: Letter, actor: Actor = None, at: datetime | None = None) -> Letter:
    """Close for good: `closed_at` is the instant of the final, citable count. Never reopened."""
    at = at or timezone.now()
    letter = letter_lock(pk=letter.pk)
    transition_check(letter=letter, target=Status.CLOSED)
    return _move(letter=letter, target=Status.CLOSED, actor=actor, at=at, fields={"closed_at": at})


def letters_open_due(*, now: datetime | None = None) -> int:
    """Beat: open every scheduled letter whose `publish_at` has come; the number opened.

    Each letter opens in its own transaction with its row locked, and the status is read again under the lock, so
    two beats running at once open it once (the second finds it open and skips it)."""
    now = now or timezone.now()
    due = list(
        Letter.objects.filter(status=Status.SCHEDULED, publish_at__lte=now)
        .order_by("publish_at", "pk")
        .values_list("pk", flat=True)
    )
    return sum(_open_due(pk=pk, now=now) for pk in due)


@transaction.atomic
def _open_due(*, pk: int, now: datetime) -> bool:
    letter = letter_lock(pk=pk)
    if letter.status != Status.SCHEDULED or letter.publish_at is None or letter.publish_at > now:
        return False  # opened, rescheduled or opened early meanwhile
    # Opened at the announced minute, not when beat happened to run.
    _open_locked(letter=letter, actor=None, at=letter.publish_at)
    return True


def letter_status_move(*, letter: Letter, status: str, actor: Actor = None, at: datetime | None = None) -> Letter:
    """The service for a target status (admin's status field): open, pause or close. Scheduling needs a time, so it
    goes through `letter_schedule`."""
    moves = {Status.OPEN: letter_open, Status.PAUSED: letter_pause, Status.CLOSED: letter_close}
    if status not in moves:
        raise TransitionRefused(
            "Schedule a letter with a publication time."
            if status == Status.SCHEDULED
            else "A letter never goes back to draft."
        )
    return moves[Status(status)](letter=letter, actor=actor, at=at)
