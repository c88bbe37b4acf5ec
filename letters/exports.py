"""Streamed exports of the public list (CSV and JSON) in constant memory: rows come from a server-side cursor."""

import csv
import json
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import QuerySet

from letters.models import Letter, Signature

NAME_WITHHELD = "Name withheld"
COLUMNS = [
    "id",
    "name",
    "name_withheld",
    "title",
    "organization",
    "organization_slug",
    "verification_level",
    "verification_method",
    "verified_at",
    "signed_at",
    "version",
]
CHUNK = 2000
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> str:
    """Spreadsheet-safe text: a cell that could start a formula is prefixed with an apostrophe."""
    text = "" if value is None else value.isoformat() if isinstance(value, datetime) else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def export_row(signature: Signature) -> dict[str, Any]:
    record = signature.verification
    level = getattr(signature, "level_then", None) or signature.verification_level
    if record is not None and record.level == level:
        method, verified_at = record.method, record.verified_at
    elif level == "email":
        method, verified_at = "email", signature.confirmed_at
    else:
        method, verified_at = None, None
    org = signature.organization if signature.organization and signature.organization.status == "reviewed" else None
    return {
        "id": signature.public_id,
        "name": signature.name if signature.is_public else NAME_WITHHELD,
        "name_withheld": not signature.is_public,
        "title": signature.title if signature.is_public else "",
        "organization": org.name if org else signature.organization_name,
        "organization_slug": org.slug if org else None,
        "verification_level": level,
        "verification_method": method,
        "verified_at": verified_at,
        "signed_at": signature.confirmed_at,
        "version": signature.version.number,
    }


def export_metadata(*, letter: Letter, exported_at: datetime, as_of: datetime | None) -> dict[str, Any]:
    version = letter.current_version
    return {
        "letter": letter.slug,
        "title": letter.title,
        "version": version.number,
        "version_sha256": version.sha256,
        "exported_at": exported_at,
        "as_of": as_of,
    }


class _Echo:
    def write(self, value: str) -> str:
        return value


def export_csv(*, rows: QuerySet[Signature], metadata: dict[str, Any]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    described = "; ".join(f"{k}={csv_cell(v)}" for k, v in metadata.items() if v is not None)
    yield f"# Undersigned export: {described}\r\n"
    yield writer.writerow(COLUMNS)
    for signature in rows.iterator(chunk_size=CHUNK):
        row = export_row(signature)
        yield writer.writerow([csv_cell(row[c]) for c in COLUMNS])


def export_json(*, rows: QuerySet[Signature], metadata: dict[str, Any]) -> Iterator[str]:
    head = json.dumps(metadata, cls=DjangoJSONEncoder)
    yield head[:-1] + ', "signatures": ['
    first = True
    for signature in rows.iterator(chunk_size=CHUNK):
        yield ("" if first else ",") + "\n" + json.dumps(export_row(signature), cls=DjangoJSONEncoder)
        first = False
    yield "\n]}\n"
