"""What the public sees of a signature — shown name (or the withheld label), shown organization (a reviewed
organization it is linked to, else the text as typed), shown verification — in one place: API serializers, the Python
export path, counts by organization and the templates all call these. The SQL view of export lines
(letters/migrations/0007) renders the same rules; tests/letters/test_export_lines.py proves they agree.

Never add private fields here.
"""

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from letters.models import Signature
from registry.models import Organization

NAME_WITHHELD = "Name withheld"


def iso_utc(moment) -> str | None:
    """DRF's rendering of an aware datetime in UTC ("…Z"), without its per-call setup (hot in list pages)."""
    if moment is None:
        return None
    text = moment.astimezone(UTC).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def awaiting_reconsent(version_number: int, reconsent_from: int) -> bool:
    """A signature of a version older than the letter's latest material one (Letter.material_version_number): its
    signer was asked to re-consent, and it is listed as "signed version N" until they answer."""
    return version_number < reconsent_from


def signed_version_label(version_number: int, reconsent_from: int) -> str:
    """How a list shows the version a signature stands for: "" for the text in force, else "signed version N"."""
    return f"signed version {version_number}" if awaiting_reconsent(version_number, reconsent_from) else ""


def public_signature_row(row: Mapping[str, Any], *, reconsent_from: int = 1) -> dict:
    """The public shape of a signature from a row of letters.selectors.PUBLIC_ROW_FIELDS (list pages read values,
    not model instances); PublicSignatureSerializer gives the same shape for an instance. `reconsent_from` is the
    letter's material_version_number."""
    public = row["name_shown"]
    return {
        "id": row["public_id"],
        "name": row["name"] if public else NAME_WITHHELD,
        "name_withheld": not public,
        "title": row["title"] if public else "",
        "organization": shown_organization(row),
        "verification": shown_verification(row),
        "signed_at": iso_utc(row["confirmed_at"]),
        "version": row["version__number"],
        "awaiting_reconsent": awaiting_reconsent(row["version__number"], reconsent_from),
    }


def shown_organization(row: Mapping[str, Any]) -> dict | None:
    if row["organization_id"] is not None and row["organization__status"] == Organization.Status.REVIEWED:
        return {"name": row["organization__name"], "slug": row["organization__slug"]}
    if row["organization_name"]:
        return {"name": row["organization_name"], "slug": None}
    return None


def shown_verification(row: Mapping[str, Any]) -> dict:
    level = row["verification_level"]
    if row["verification_id"] is not None:
        return {
            "level": level,
            "method": row["verification__method"],
            "verified_at": iso_utc(row["verification__verified_at"]),
        }
    verified_at = row["confirmed_at"] if level == "email" else None
    return {"level": level, "method": "email" if verified_at else None, "verified_at": iso_utc(verified_at)}


def as_seen(obj: Signature, field: str) -> Any:
    """A typed field as the public saw it: the value before a later correction when the row was read as of an
    earlier instant (letters.history annotates `seen_then`), else the current one."""
    then = getattr(obj, "seen_then", None) or {}
    return then[field] if field in then else getattr(obj, field)


def signature_row(obj: Signature) -> dict[str, Any]:
    """An instance (fetched with PUBLIC_SIGNATURE_RELATED) as the row public_signature_row reads."""
    org = obj.organization if obj.organization_id is not None else None
    record = obj.verification if obj.verification_id is not None else None
    return {
        "public_id": obj.public_id, "name": as_seen(obj, "name"), "title": as_seen(obj, "title"),
        "name_shown": obj.name_shown, "organization_name": as_seen(obj, "organization_name"),
        "organization_id": obj.organization_id,
        "organization__name": org and org.name, "organization__slug": org and org.slug,
        "organization__status": org and org.status, "verification_level": obj.verification_level,
        "verification_id": obj.verification_id, "verification__method": record and record.method,
        "verification__verified_at": record and record.verified_at, "confirmed_at": obj.confirmed_at,
        "version__number": obj.version.number,
    }  # fmt: skip


def verification_as_of(obj: Signature, as_of: datetime) -> dict:
    """The verification the public saw at `as_of` on a row read by letters.history.signatures_as_of (`level_then`):
    a record made later than `as_of` is not shown."""
    level = getattr(obj, "level_then", None) or obj.verification_level
    record = obj.verification if obj.verification_id is not None else None
    if record is not None and record.level == level and record.verified_at <= as_of:
        return {"level": level, "method": record.method, "verified_at": iso_utc(record.verified_at)}
    if level == "email":
        return {"level": level, "method": "email", "verified_at": iso_utc(obj.confirmed_at)}
    return {"level": level, "method": None, "verified_at": None}


def shown_signature(obj: Signature, *, as_of: datetime | None = None, reconsent_from: int = 1) -> dict:
    """A signature as the public sees it now, or saw it at `as_of` (then with `removed_later`): what the API's list,
    and the letter page, show."""
    row = public_signature_row(signature_row(obj), reconsent_from=reconsent_from)
    if as_of is None:
        return row
    removed_later = obj.removed_later  # type: ignore[attr-defined]  # annotated by letters.history.signatures_as_of
    return {**row, "verification": verification_as_of(obj, as_of), "removed_later": removed_later}


def organization_key(slug: str | None, text: str | None) -> str:
    """How counts name a shown organization: "org:<slug>" for a reviewed one, "text:<as typed>" otherwise ("" when
    none was given)."""
    if slug:
        return f"org:{slug}"
    return f"text:{text}" if text else ""


def shown_organization_key_of(*, slug: str | None, status: str | None, typed: str) -> str:
    """The count key of the organization shown: the linked one once reviewed, else the text as typed."""
    return organization_key(slug if status == Organization.Status.REVIEWED else None, typed)


def shown_organization_key(signature: Signature) -> str:
    """The count key of the organization the public sees on `signature` (one query if its organization is not
    loaded yet)."""
    org = signature.organization if signature.organization_id is not None else None
    if org is None:
        return organization_key(None, signature.organization_name)
    return shown_organization_key_of(slug=org.slug, status=org.status, typed=signature.organization_name)
