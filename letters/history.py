"""Public history replayed from SignatureEvents: the list exactly as the public saw it at any instant."""

from datetime import datetime, timedelta

from django.db.models import BooleanField, Case, OuterRef, Q, QuerySet, Subquery, Value, When
from django.utils import timezone

from letters.models import Letter, Signature, SignatureEvent

AS_OF_SKEW = timedelta(seconds=5)
AS_OF_SETTLE = timedelta(seconds=10)


def as_of_problem(as_of: datetime, *, now: datetime | None = None) -> str:
    """What is wrong with `as_of` for an answer "as the public saw it then" ("" if nothing): the future is not
    known yet, and an answer labelled with it would be cited as if it were. A clock up to AS_OF_SKEW ahead of ours
    is allowed; such an answer is one that can still change (see as_of_settled)."""
    if as_of > (now or timezone.now()) + AS_OF_SKEW:
        return "An instant in the future: the list and the count are known up to now."
    return ""


def as_of_settled(as_of: datetime, *, now: datetime | None = None) -> bool:
    """Whether the history up to `as_of` is final, so an answer about it may be kept long (HTTP and shared caches).

    An event's `at` is stamped before its transaction commits (about 0.1 s for a signature, 0.55 s for a withdrawal
    as measured under load; an import or invalidation batch stamps one `at` before writing all its rows), so the
    history of the last moments can still gain events dated in them. Past AS_OF_SETTLE nothing is expected to (a
    batch slower than that would still change it); an instant more recent, or in the future (up to AS_OF_SKEW), is
    answered like a read of now and kept only as briefly.
    """
    return as_of <= (now or timezone.now()) - AS_OF_SETTLE


def signatures_as_of(*, letter: Letter, as_of: datetime) -> QuerySet[Signature]:
    """Signatures public at `as_of`: the last event at or before it left them visible.

    Annotates `level_then` (the verification level at that moment) and `removed_later` (not public now), so later
    withdrawals and removals do not rewrite the past but are marked; and `seen_then`, what the first correction after
    `as_of` recorded the public saw before it (NULL when there is none: the text is still what it was), which
    letters.presentation.as_seen reads.
    """
    last = SignatureEvent.objects.filter(signature=OuterRef("pk"), at__lte=as_of).order_by("-at", "-id")
    corrected_later = SignatureEvent.objects.filter(
        signature=OuterRef("pk"), kind=SignatureEvent.Kind.CORRECTED, at__gt=as_of
    ).order_by("at", "id")
    return (
        Signature.objects.filter(letter=letter, confirmed_at__lte=as_of)
        .annotate(
            seen_then=Subquery(corrected_later.values("data__before")[:1]),
            visible_then=Subquery(last.values("visible_after")[:1]),
            level_then=Subquery(last.values("level_after")[:1]),
            removed_later=Case(
                When(Signature.VISIBLE, then=Value(False)),
                default=Value(True),
                output_field=BooleanField(),
            ),
        )
        .filter(visible_then=True)
    )


def public_change_kind(event: SignatureEvent) -> str | None:
    """How a change reads to the public, or None when the public saw nothing."""
    if not event.visible_before and event.visible_after:
        return "added"
    if event.visible_before and not event.visible_after:
        removed_as: dict[str, str] = {
            SignatureEvent.Kind.WITHDRAWN: "withdrawn",
            SignatureEvent.Kind.MERGED: "merged",
        }
        return removed_as.get(event.kind, "removed")
    if event.visible_before and event.visible_after and event.level_before != event.level_after:
        return "verified"
    if event.visible_before and event.visible_after and event.organization_before != event.organization_after:
        return "organization"
    if event.visible_before and event.visible_after and event.kind == SignatureEvent.Kind.CORRECTED:
        return "corrected"
    return None


PUBLIC_CHANGE = Q(visible_before=False, visible_after=True) | Q(visible_before=True, visible_after=False)
