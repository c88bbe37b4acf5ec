"""Withheld but verified: signatures that count without being named, grouped by verification level and the
organization shown ("12 verified Adobe employees, names withheld"). Never a name."""

from collections import Counter
from datetime import datetime
from typing import Any

from django.core.cache import cache
from django.db.models import Count

from letters.history import as_of_settled, signatures_as_of
from letters.models import VERIFIED_LEVELS, Letter, Signature, VerificationLevel
from letters.selectors import STATS_CACHE_NOW, STATS_CACHE_PAST
from registry.models import Organization

FIELDS = ("verification_level", "organization__slug", "organization__name", "organization__status", "organization_name")


def letter_withheld(*, letter: Letter, as_of: datetime | None = None) -> list[dict[str, Any]]:
    """Public signatures with the name withheld, now or as of an instant, per (level, shown organization), largest
    groups first: [{"level", "verified", "organization": {"name", "slug"} | None, "count", "text"}]. Shared by all
    processes as long as the stats are (letters.selectors.letter_stats)."""
    key = f"letter-withheld:{letter.pk}:{as_of.isoformat() if as_of else 'now'}"
    cached = cache.get(key)
    if cached is None:
        cached = _letter_withheld(letter=letter, as_of=as_of)
        settled = as_of is not None and as_of_settled(as_of)
        cache.set(key, cached, timeout=STATS_CACHE_PAST if settled else STATS_CACHE_NOW)
    return cached


def _letter_withheld(*, letter: Letter, as_of: datetime | None) -> list[dict[str, Any]]:
    rows = signatures_as_of(letter=letter, as_of=as_of) if as_of else Signature.objects.visible().filter(letter=letter)
    groups: Counter[tuple] = Counter()
    level_field = "level_then" if as_of else "verification_level"
    # Grouped by the database: a big letter has tens of thousands of withheld names, and only the groups leave it.
    grouped = rows.filter(name_shown=False).order_by().values(level_field, *FIELDS[1:]).annotate(n=Count("*"))
    for row in grouped:
        reviewed = row["organization__slug"] and row["organization__status"] == Organization.Status.REVIEWED
        org = (row["organization__name"], row["organization__slug"]) if reviewed else (row["organization_name"], None)
        groups[(row[level_field], org if org[0] else None)] += row["n"]
    out = []
    for (level, org), count in sorted(groups.items(), key=lambda item: (-item[1], item[0][0], str(item[0][1]))):
        verified = level in VERIFIED_LEVELS
        organization = {"name": org[0], "slug": org[1]} if org else None
        label = withheld_label(count=count, level=level, organization=org[0] if org else None)
        out.append({"level": level, "verified": verified, "organization": organization, "count": count, "text": label})
    return out


# How a withheld group was confirmed, in its label: the organizers' word is not called verification.
_HOW: dict[str, str] = {VerificationLevel.INVITED: "invited", VerificationLevel.VOUCHED: "organizer-vouched"}


def withheld_label(*, count: int, level: str, organization: str | None) -> str:
    """'12 verified Adobe signers, names withheld' / '1 email-confirmed signer, name withheld' / '3 invited …'."""
    how = "verified" if level in VERIFIED_LEVELS else _HOW.get(level, "email-confirmed")
    who = f"{organization} signer" if organization else "signer"
    plural = count != 1
    return f"{count} {how} {who}{'s' if plural else ''}, name{'s' if plural else ''} withheld"
