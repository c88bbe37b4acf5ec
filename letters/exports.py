"""Streamed exports of the public list (CSV and JSON) in constant memory: on PostgreSQL the current CSV reads the
export lines triggers keep (letters.models.ExportLine); as-of, JSON and SQLite render rows from a server-side cursor."""

import csv
import json
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.db.models import OuterRef, QuerySet, Subquery

from letters.models import Letter, Signature, SignatureCommitment
from letters.presentation import NAME_WITHHELD, as_seen
from letters.selectors import letter_signatures_public
from letters.transparency_log import transparency_log_position
from letters.withheld import letter_withheld

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
STREAM_BUFFER = 256 * 1024
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def export_time(moment: datetime | None) -> str | None:
    """ISO 8601 in UTC with a Z, fractional seconds without trailing zeros (as PostgreSQL prints them), identical
    in the streamed-COPY and the Python paths: 2026-01-20T12:00:00Z, 2026-01-20T12:00:00.25Z."""
    if moment is None:
        return None
    text = moment.astimezone(UTC).replace(tzinfo=None).isoformat()
    return (text.rstrip("0") if "." in text else text) + "Z"


def csv_cell(value: Any) -> str:
    """Spreadsheet-safe text: a cell that could start a formula is prefixed with an apostrophe."""
    text = "" if value is None else (export_time(value) or "") if isinstance(value, datetime) else str(value)
    if isinstance(value, bool):
        text = "true" if value else "false"
    return "'" + text if text.startswith(_FORMULA_START) else text


def export_row(signature: Signature) -> dict[str, Any]:
    record = signature.verification
    level = getattr(signature, "level_then", None) or signature.verification_level
    method: str | None
    verified_at: datetime | None
    if record is not None and record.level == level:
        method, verified_at = record.method, record.verified_at
    elif level == "email":
        method, verified_at = "email", signature.confirmed_at
    else:
        method, verified_at = None, None
    org = signature.organization if signature.organization and signature.organization.status == "reviewed" else None
    return {
        "id": signature.public_id,
        "name": as_seen(signature, "name") if signature.name_shown else NAME_WITHHELD,
        "name_withheld": not signature.name_shown,
        "title": as_seen(signature, "title") if signature.name_shown else "",
        "organization": org.name if org else as_seen(signature, "organization_name"),
        "organization_slug": org.slug if org else None,
        "verification_level": level,
        "verification_method": method,
        "verified_at": export_time(verified_at),
        "signed_at": export_time(signature.confirmed_at),
        "version": signature.version.number,
    }


def export_metadata(*, letter: Letter, exported_at: datetime, as_of: datetime | None) -> dict[str, Any]:
    version = letter.current_version
    assert version is not None  # exports are served for published letters only
    return {
        "letter": letter.slug,
        "title": letter.title,
        "version": version.number,
        "version_sha256": version.sha256,
        "exported_at": exported_at,
        "as_of": as_of,
        **transparency_log_position(letter),
    }


class _Echo:
    def write(self, value: str) -> str:
        return value


def export_csv(*, rows: QuerySet[Signature], metadata: dict[str, Any]) -> Iterator[str]:
    writer = csv.writer(_Echo(), lineterminator="\n")
    described = "; ".join(f"{k}={csv_cell(v)}" for k, v in metadata.items() if v is not None)
    yield f"# Undersigned export: {described}\n"
    yield writer.writerow(COLUMNS)
    for signature in rows.iterator(chunk_size=CHUNK):
        row = export_row(signature)
        yield writer.writerow([csv_cell(row[c]) for c in COLUMNS])


_COPY_TEXT_ESCAPES = {b"\\": b"\\", b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f", b"v": b"\v"}
_COPY_TEXT_ESCAPE = re.compile(rb"\\(.)", re.DOTALL)


def _copy_text_decode(data: bytes) -> bytes:
    """COPY's text format writes a backslash and control characters as escapes; lines hold them rarely."""
    if b"\\" not in data:
        return data
    return _COPY_TEXT_ESCAPE.sub(lambda m: _COPY_TEXT_ESCAPES.get(m.group(1), m.group(1)), data)


def export_csv_copy(*, letter_id: int, metadata: dict[str, Any]) -> Iterator[bytes]:
    """The current public list from its export lines (letters.models.ExportLine, PostgreSQL): one column read in
    order by COPY, near raw COPY speed; byte for byte what export_csv writes."""
    described = "; ".join(f"{k}={csv_cell(v)}" for k, v in metadata.items() if v is not None)
    yield f"# Undersigned export: {described}\n".encode()
    yield (",".join(COLUMNS) + "\n").encode()
    buffer = bytearray()
    statement = (
        "COPY (SELECT line FROM letters_exportline WHERE letter_id = %s ORDER BY confirmed_at, signature_id) TO STDOUT"
    )
    with connection.cursor() as cursor, cursor.cursor.copy(statement, [letter_id]) as copy:
        for data in copy:  # a row at a time, whole; the socket wants bigger writes
            buffer += data
            if len(buffer) >= STREAM_BUFFER:
                yield _copy_text_decode(bytes(buffer))
                buffer.clear()
    if buffer:
        yield _copy_text_decode(bytes(buffer))


def export_lines_rebuild(*, letter_id: int | None = None) -> int:
    """Rewrites the export lines (of one letter or all) from their source view; returns how many are public.

    Written in export order, as confirmations append them, so an export reads the table nearly sequentially."""
    params = {"letter": letter_id}
    with transaction.atomic(), connection.cursor() as cursor:
        # Writers of lines (triggers) wait until this commits; the statements below then see every earlier commit.
        cursor.execute("LOCK TABLE letters_exportline IN SHARE ROW EXCLUSIVE MODE")
        cursor.execute(
            "DELETE FROM letters_exportline WHERE %(letter)s::bigint IS NULL OR letter_id = %(letter)s", params
        )
        cursor.execute(
            """INSERT INTO letters_exportline (signature_id, letter_id, confirmed_at, line)
               SELECT signature_id, letter_id, confirmed_at, line FROM letters_exportline_source
               WHERE %(letter)s::bigint IS NULL OR letter_id = %(letter)s
               ORDER BY letter_id, confirmed_at, signature_id""",
            params,
        )
        return cursor.rowcount


@contextmanager
def export_lines_deferred(*, signature_ids: Sequence[int]) -> Iterator[None]:
    """Inside the block, updates of `signature_ids` leave their export lines to one set-based refresh at its end,
    instead of the per-row trigger (migration letters/0029: the trigger skips while `letters.export_lines` is
    `deferred` in this transaction). For sweeps of many signatures; call inside their transaction, with the rows
    locked. Changes the rows' status, hold or level only: organization and verification stay as they were."""
    if connection.vendor != "postgresql" or not signature_ids:
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('letters.export_lines', 'deferred', true)")
    yield
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('letters.export_lines', '', true)")
        export_lines_refresh(cursor, signature_ids=list(signature_ids))


def export_lines_refresh(cursor: Any, *, signature_ids: list[int]) -> None:
    """Make the lines of `signature_ids` what the source view renders: upsert the public, delete the rest. Takes FOR
    SHARE on their organizations and verification records first, as the row trigger does, so a concurrent rename
    can never leave a stale line."""
    params = {"ids": signature_ids}
    cursor.execute(
        """SELECT 1 FROM registry_organization WHERE id IN
               (SELECT organization_id FROM letters_signature WHERE id = ANY(%(ids)s)) ORDER BY id FOR SHARE""",
        params,
    )
    cursor.execute(
        """SELECT 1 FROM letters_verificationrecord WHERE id IN
               (SELECT verification_id FROM letters_signature WHERE id = ANY(%(ids)s)) ORDER BY id FOR SHARE""",
        params,
    )
    cursor.execute(
        """INSERT INTO letters_exportline (signature_id, letter_id, confirmed_at, line)
           SELECT signature_id, letter_id, confirmed_at, line FROM letters_exportline_source
           WHERE signature_id = ANY(%(ids)s) ORDER BY letter_id, confirmed_at, signature_id
           ON CONFLICT (signature_id) DO UPDATE
               SET letter_id = EXCLUDED.letter_id, confirmed_at = EXCLUDED.confirmed_at, line = EXCLUDED.line""",
        params,
    )
    cursor.execute(
        """DELETE FROM letters_exportline l WHERE l.signature_id = ANY(%(ids)s)
           AND NOT EXISTS (SELECT 1 FROM letters_exportline_source s WHERE s.signature_id = l.signature_id)""",
        params,
    )


def export_lines_differences(*, letter_id: int | None = None) -> int:
    """How many export lines differ from what their source view renders now (missing, extra or changed)."""
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT count(*)
               FROM (SELECT signature_id, letter_id, confirmed_at, line FROM letters_exportline
                     WHERE %(letter)s::bigint IS NULL OR letter_id = %(letter)s) kept
               FULL JOIN (SELECT signature_id, letter_id, confirmed_at, line FROM letters_exportline_source
                          WHERE %(letter)s::bigint IS NULL OR letter_id = %(letter)s) rendered USING (signature_id)
               WHERE kept IS DISTINCT FROM rendered""",
            {"letter": letter_id},
        )
        return cursor.fetchone()[0]


def export_json(*, rows: QuerySet[Signature], metadata: dict[str, Any]) -> Iterator[str]:
    """The JSON export; a shown name carries `name_salt`, which opens the transparency log's commitment to it."""
    head = json.dumps(metadata, cls=DjangoJSONEncoder)
    yield head[:-1] + ', "signatures": ['
    first = True
    salts = SignatureCommitment.objects.filter(signature=OuterRef("pk")).values("salt")[:1]
    for signature in rows.annotate(commitment_salt=Subquery(salts)).iterator(chunk_size=CHUNK):
        row = export_row(signature)
        salt = signature.commitment_salt if signature.name_shown else None
        row["name_salt"] = bytes(salt).hex() if salt else None
        yield ("" if first else ",") + "\n" + json.dumps(row, cls=DjangoJSONEncoder)
        first = False
    yield "\n]}\n"


def export_stream(*, letter: Letter, fmt: str, metadata: dict[str, Any], as_of: datetime | None) -> Iterator:
    """The export body: CSV of the current list from export lines on PostgreSQL, otherwise rendered row by row."""
    if fmt == "csv" and as_of is None and connection.vendor == "postgresql":
        return export_csv_copy(letter_id=letter.pk, metadata=metadata)
    rows = letter_signatures_public(letter=letter, as_of=as_of)
    if fmt == "csv":
        return export_csv(rows=rows, metadata=metadata)
    return export_json(rows=rows, metadata={**metadata, "withheld": letter_withheld(letter=letter, as_of=as_of)})
