"""The preview of an import: every row checked with the rules of public signing before anything is stored.

Per row: field errors (by the file's row number), the organization it links to in the registry (by name, by alias, or
a new candidate), whether the letter already has a live signature from that address, whether the file repeats the
address, and the people in the registry it may be (the duplicate queue's matcher, with its evidence and weights).
Reads only; writes nothing.
"""

from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, time
from types import MappingProxyType

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from importing.files import Table
from importing.mapping import row_values
from importing.models import SignerInvitation
from letters.models import Letter, Signature
from letters.typed_text import SIGNER_FIELDS, signer_input_clean
from registry.bulk import field_in
from registry.emails import email_key
from registry.lookalikes import Newcomer, people_resembling
from registry.models import Organization, OrganizationAlias
from registry.normalize import organization_name_key

ORGANIZATION = SIGNER_FIELDS.index("organization")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
LOOKUP_CHUNK = 2000
NO_ERRORS: Mapping[str, list[str]] = MappingProxyType({})  # shared by the valid rows, which are most


INVITATION_NOTES = {
    "declined": "Declined an invitation to this letter: an invite import will not invite this address again",
    "open": "Has an open invitation to this letter: an invite import will not send a second one",
}


class RowStatus:
    NEW = "new"
    ALREADY_SIGNED = "already_signed"
    DUPLICATE_IN_FILE = "duplicate_in_file"
    INVALID = "invalid"
    ALL = (NEW, ALREADY_SIGNED, DUPLICATE_IN_FILE, INVALID)
    LABELS = {
        NEW: "new",
        ALREADY_SIGNED: "already signed",
        DUPLICATE_IN_FILE: "duplicate in the file",
        INVALID: "invalid",
    }


@dataclass(slots=True)
class RowCheck:
    """One row as checked. A file of 100k rows is 100k of these in an upload's request, so a row keeps its file
    cells (shared with the table) and its cleaned fields as a tuple, and derives the dicts shown from them."""

    number: int  # the row's number in the file (the header is row 1)
    cells: list[str]  # the file's row, as typed
    mapping: dict[str, int]
    cleaned_fields: tuple[str | None, ...] = ()  # by letters.typed_text.SIGNER_FIELDS; None for a field in error
    errors: Mapping[str, list[str]] = field(default_factory=lambda: NO_ERRORS)
    status: str = RowStatus.NEW
    email_key: str = ""
    signed_at: datetime | None = None
    organization_match: str = ""  # "name", "alias", "new" or "" (no organization given)
    organization_slug: str = ""
    duplicate_of_row: int | None = None
    possible_people: list[dict[str, str]] = field(default_factory=list)
    invitation: str = ""  # "declined" (never invited again) or "open" (one is running): what an invite import skips

    @property
    def status_label(self) -> str:
        return RowStatus.LABELS[self.status]

    @property
    def values(self) -> dict[str, str]:
        """As typed, by field."""
        return row_values(self.cells, self.mapping)

    @property
    def cleaned(self) -> dict[str, str]:
        """The fields without errors, cleaned by the rules of public signing."""
        return {
            name: value for name, value in zip(SIGNER_FIELDS, self.cleaned_fields, strict=False) if value is not None
        }

    @property
    def explanation(self) -> str:
        if self.status == RowStatus.INVALID:
            return "; ".join(f"{name}: {' '.join(messages)}" for name, messages in self.errors.items())
        if self.status == RowStatus.DUPLICATE_IN_FILE:
            return f"The same address as row {self.duplicate_of_row}."
        if self.status == RowStatus.ALREADY_SIGNED:
            return "This address has already signed the letter."
        notes = [INVITATION_NOTES[self.invitation]] if self.invitation else []
        notes += [f"Possibly {p['name']} ({p['reason']})" for p in self.possible_people]
        return "; ".join(notes)


@dataclass
class Preview:
    rows: list[RowCheck]
    people_checked: bool = True  # whether rows were compared with the registry's people (small files only)

    @property
    def summary(self) -> dict[str, int]:
        counts = Counter(row.status for row in self.rows)
        return {status: counts.get(status, 0) for status in RowStatus.ALL} | {"total": len(self.rows)}

    def summary_shown(self) -> list[tuple[str, int]]:
        """(label, count) of each status, as the preview page lists them."""
        summary = self.summary
        return [(label, summary[status]) for status, label in RowStatus.LABELS.items()]


def signed_at_parse(text: str, *, now: datetime) -> datetime:
    """An ISO 8601 date or date-time (as spreadsheets write it); naive times are UTC; never in the future."""
    text = text.strip()
    value = parse_datetime(text.replace("/", "-")) if "T" in text or ":" in text else None
    if value is None:
        day = parse_date(text.replace("/", "-")) if len(text) >= 8 and text[:4].isdigit() else None
        if day is None:
            raise ValidationError("Write the date as YYYY-MM-DD (optionally with a time, HH:MM).", code="invalid")
        value = datetime.combine(day, time(0, 0))
    if timezone.is_naive(value):
        value = value.replace(tzinfo=UTC)
    if value > now:
        raise ValidationError("The signing date is in the future.", code="future")
    return value


def row_check(*, number: int, row: list[str], mapping: dict[str, int], now: datetime) -> RowCheck:
    """One row on its own: the rules of public signing, formula-leading cells refused, the date parsed."""
    values = row_values(row, mapping)
    check = RowCheck(number=number, cells=row, mapping=mapping)
    errors: dict[str, list[str]] = {}
    for name, value in values.items():
        if value[:1] in FORMULA_START:
            errors[name] = ["Must not start with =, +, -, @, a tab or a carriage return (spreadsheet formulas)."]
    cleaned, rule_errors = signer_input_clean(
        {
            "name": values.get("name"),
            "email": values.get("email"),
            "title": values.get("title"),
            "organization": values.get("organization"),
            "comment": values.get("note"),
        }
    )
    for name, messages in rule_errors.items():
        errors.setdefault("note" if name == "comment" else name, messages)
    if values.get("signed_at", "").strip() and "signed_at" not in errors:
        try:
            check.signed_at = signed_at_parse(values["signed_at"], now=now)
        except ValidationError as exc:
            errors["signed_at"] = list(exc.messages)
    check.cleaned_fields = tuple(cleaned.get(name) for name in SIGNER_FIELDS)
    if errors:
        check.errors = errors
        check.status = RowStatus.INVALID
    else:
        check.email_key = email_key(cleaned["email"])
    return check


def _chunks(items: list[str]) -> Iterator[list[str]]:
    for start in range(0, len(items), LOOKUP_CHUNK):
        yield items[start : start + LOOKUP_CHUNK]


def live_keys(letter: Letter, keys: Iterable[str]) -> set[str]:
    """The keys among `keys` that have a live signature on the letter."""
    wanted = sorted(set(keys))
    live = Signature.objects.filter(letter=letter, status__in=Signature.LIVE_STATUSES).order_by()
    if connection.vendor == "postgresql":  # one array parameter (registry.bulk.field_in), however many keys
        return set(live.filter(field_in("email_key", wanted)).values_list("email_key", flat=True).iterator())
    found: set[str] = set()
    for chunk in _chunks(wanted):
        found.update(live.filter(email_key__in=chunk).values_list("email_key", flat=True).iterator())
    return found


def _invitations(letter: Letter, keys: list[str], *, now: datetime) -> dict[str, str]:
    """{address key: "declined" | "open"} for the keys with an invitation to the letter that an invite import would
    not send again (importing.invitations.signer_invitation_create refuses those)."""
    found: dict[str, str] = {}
    invitations = SignerInvitation.objects.filter(letter=letter).exclude(email_key="").order_by()
    if not keys or not invitations.exists():  # most letters' imports: no invitation at all, no lookups
        return found
    for chunk in _chunks(sorted(set(keys))):
        for key, declined_at, signed_at, revoked_at, expires_at in invitations.filter(email_key__in=chunk).values_list(
            "email_key", "declined_at", "signed_at", "revoked_at", "expires_at"
        ):
            if declined_at is not None:
                found[key] = "declined"
            elif signed_at is None and revoked_at is None and expires_at > now:
                found.setdefault(key, "open")
    return found


def _organizations(keys: Iterable[str]) -> dict[str, tuple[str, str]]:
    """{name key: (how it matched, organization slug)} for keys the registry knows by name or alias."""
    found: dict[str, tuple[str, str]] = {}
    ordered = sorted(set(keys))
    for chunk in _chunks(ordered):
        for key, slug in Organization.objects.filter(name_key__in=chunk).values_list("name_key", "slug"):
            found[key] = ("name", slug)
        for key, slug in OrganizationAlias.objects.filter(name_key__in=chunk).values_list(
            "name_key", "organization__slug"
        ):
            found.setdefault(key, ("alias", slug))
    return found


def preview_build(*, letter: Letter, table: Table, mapping: dict[str, int], now: datetime | None = None) -> Preview:
    """Check every row of `table` under `mapping` against the letter and the registry (reads only)."""
    now = now or timezone.now()
    rows = [
        row_check(number=number, row=row, mapping=mapping, now=now)
        for number, row in zip(table.numbers, table.rows, strict=True)
    ]
    first_row_of: dict[str, int] = {}
    for row in rows:
        if row.status != RowStatus.INVALID:
            if row.email_key in first_row_of:
                row.status = RowStatus.DUPLICATE_IN_FILE
                row.duplicate_of_row = first_row_of[row.email_key]
            else:
                first_row_of[row.email_key] = row.number
    valid = [row for row in rows if row.status == RowStatus.NEW]
    signed = live_keys(letter, (row.email_key for row in valid))
    org_keys: dict[str, str] = {}  # by organization as cleaned: a file names a few hundred for 100k rows
    for row in valid:
        name = row.cleaned_fields[ORGANIZATION] or ""
        if name not in org_keys:
            org_keys[name] = organization_name_key(name)
    orgs = _organizations(key for key in org_keys.values() if key)
    # The matcher loads the registry and scores blocks: worth it for the few hundred founders of a letter, not for a
    # file of 100k rows in a request (a vouched import's registry scan finds those duplicates once it has run).
    people_checked = len(valid) <= settings.IMPORT_PREVIEW_PEOPLE_ROWS
    resembling = (
        people_resembling(
            [
                Newcomer(
                    name=row.cleaned["name"],
                    email_key=row.email_key,
                    organization_name=row.cleaned.get("organization", ""),
                )
                for row in valid
            ]
        )
        if people_checked
        else {}
    )
    invitations = _invitations(letter, [row.email_key for row in valid if row.email_key not in signed], now=now)
    for index, row in enumerate(valid):
        if row.email_key in signed:
            row.status = RowStatus.ALREADY_SIGNED
            continue
        row.invitation = invitations.get(row.email_key, "")
        key = org_keys[row.cleaned_fields[ORGANIZATION] or ""]
        if key:
            row.organization_match, row.organization_slug = orgs.get(key, ("new", ""))
        hits = resembling.get(index)
        if hits:
            row.possible_people = [
                {"name": hit.name, "person": hit.person_public_id, "reason": "; ".join(hit.reasons)} for hit in hits
            ]
    return Preview(rows=rows, people_checked=people_checked)
