"""What a letter's dashboard reads: live counts by level and version (letters.selectors.letter_dashboard_counts), the
held queue, recent signatures and the private exports made. Reads only; whether a member may see emails is the
caller's question to organizing.permissions (organizing.export_private)."""

from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet

from letters.models import Letter, Signature
from letters.selectors import letter_dashboard_counts
from letters.services.private_exports import private_exports_recorded
from registry.models import AuditEvent

RECENT_SIGNATURES = 20
HELD_SHOWN = 100  # the dashboard's share of the held queue; the rest page through the held list
RECENT_EXPORTS = 20


def signatures_held(*, letter_slug: str | None = None) -> QuerySet[Signature]:
    """Pending or confirmed signatures kept out of public view (of one letter, or all: the staff queue), oldest
    first."""
    held = Signature.objects.filter(status__in=Signature.LIVE_STATUSES).exclude(hold_reason="")
    if letter_slug is not None:
        held = held.filter(letter__slug=letter_slug)
    return held.select_related("version", "letter").order_by("signed_at", "id")


def letter_held_signatures(*, letter: Letter) -> QuerySet[Signature]:
    return signatures_held().filter(letter=letter)


def letter_recent_signatures(*, letter: Letter, limit: int = RECENT_SIGNATURES) -> list[Signature]:
    return list(Signature.objects.filter(letter=letter).select_related("version").order_by("-signed_at", "-id")[:limit])


def letter_signature_get(*, letter: Letter, public_id: str) -> Signature:
    """A signature of this letter (Signature.DoesNotExist for one of another letter: the caller answers 404)."""
    return Signature.objects.select_related("version").get(letter=letter, public_id=public_id)


@dataclass(frozen=True)
class Dashboard:
    letter: Letter
    counts: dict[str, Any]
    held: list[Signature]
    recent: list[Signature]
    exports: list[AuditEvent]


def letter_dashboard(*, letter: Letter) -> Dashboard:
    return Dashboard(
        letter=letter,
        counts=letter_dashboard_counts(letter=letter),
        held=list(letter_held_signatures(letter=letter)[:HELD_SHOWN]),
        recent=letter_recent_signatures(letter=letter),
        exports=list(private_exports_recorded(letter=letter)[:RECENT_EXPORTS]),
    )
