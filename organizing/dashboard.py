"""What a letter's dashboard reads: live counts by level and version, the held queue, recent signatures and the
private exports made. Reads only; whether a member may see emails is decided by the caller
(organizing.authoring.member_may with organizing.export_private)."""

from dataclasses import dataclass
from typing import Any

from django.db.models import Count, QuerySet

from letters.models import Letter, Signature
from letters.services.private_exports import private_exports_recorded
from registry.models import AuditEvent

RECENT_SIGNATURES = 20
RECENT_EXPORTS = 20


def letter_live_counts(*, letter: Letter) -> dict[str, Any]:
    """Counts read from the signature rows now (not the public aggregates, which lag by a fold): visible by
    verification level and by version number, held, pending, and every status."""
    by_status: dict[str, int] = {status: 0 for status in Signature.Status.values}
    by_level: dict[str, int] = {}
    by_version: dict[str, int] = {}
    held = 0
    rows = (
        Signature.objects.filter(letter=letter)
        .values("status", "hold_reason", "verification_level", "version__number")
        .annotate(n=Count("id"))
        .order_by()
    )
    for row in rows:
        n = row["n"]
        by_status[row["status"]] += n
        if row["status"] in Signature.LIVE_STATUSES and row["hold_reason"]:
            held += n
        elif row["status"] == Signature.Status.CONFIRMED:
            by_level[row["verification_level"]] = by_level.get(row["verification_level"], 0) + n
            version = str(row["version__number"])
            by_version[version] = by_version.get(version, 0) + n
    return {
        "visible": sum(by_level.values()),
        "held": held,
        "by_level": dict(sorted(by_level.items())),
        "by_version": dict(sorted(by_version.items(), key=lambda item: int(item[0]))),
        "by_status": by_status,
    }


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
        counts=letter_live_counts(letter=letter),
        held=list(letter_held_signatures(letter=letter)),
        recent=letter_recent_signatures(letter=letter),
        exports=list(private_exports_recorded(letter=letter)[:RECENT_EXPORTS]),
    )
