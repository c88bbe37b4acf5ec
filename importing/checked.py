"""The preview's checked rows, kept with the import so that starting it and running its job use what the organizer
saw without checking every row again (issue 15, P7: re-checking was a sixth of the job).

One JSON array per line, in file order, the whole zlib-compressed: `[number, status]` for an invalid row,
`[number, status, name, email, email_key, title, organization, comment, signed_at]` for the others (the cleaned,
normalized values; signed_at in ISO 8601 or ""). The job decompresses the lines once and parses one batch at a time,
so a worker holds the compressed file's lines, not 100k objects. Written by the upload and by each mapping change
(the rows depend on the mapping), emptied when the import ends.
"""

import json
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from importing.preview import RowCheck, RowStatus, live_keys
from letters.models import Letter

LEVEL = 6


@dataclass(frozen=True)
class CheckedRow:
    number: int
    status: str  # a RowStatus as of the upload (already-signed is looked up again when the import starts)
    name: str = ""
    email: str = ""
    email_key: str = ""
    title: str = ""
    organization: str = ""
    comment: str = ""
    signed_at: datetime | None = None


def checked_encode(rows: Sequence[RowCheck]) -> bytes:
    """The rows as stored; compressed line by line, so that no second copy of 100k rows is held at once."""
    compressor = zlib.compressobj(LEVEL)
    out = []
    for index, row in enumerate(rows):
        if row.status == RowStatus.INVALID:
            item: list[object] = [row.number, row.status]
        else:
            name, email, title, organization, comment = row.cleaned_fields
            item = [
                row.number,
                row.status,
                name,
                email,
                row.email_key,
                title or "",
                organization or "",
                comment or "",
                row.signed_at.isoformat() if row.signed_at else "",
            ]
        line = json.dumps(item, ensure_ascii=False, separators=(",", ":"))
        out.append(compressor.compress(f"\n{line}".encode() if index else line.encode()))
    out.append(compressor.flush())
    return b"".join(out)


def checked_lines(data: bytes) -> list[bytes]:
    """The stored rows, still encoded (parse a slice with `checked_parse`); [] when nothing is stored."""
    if not data:
        return []
    return zlib.decompress(bytes(data)).split(b"\n")


def checked_parse(lines: Sequence[bytes]) -> list[CheckedRow]:
    rows = []
    for line in lines:
        item = json.loads(line)
        if len(item) == 2:
            rows.append(CheckedRow(number=item[0], status=item[1]))
            continue
        number, status, name, email, key, title, organization, comment, signed_at = item
        rows.append(
            CheckedRow(
                number=number,
                status=status,
                name=name,
                email=email,
                email_key=key,
                title=title,
                organization=organization,
                comment=comment,
                signed_at=datetime.fromisoformat(signed_at) if signed_at else None,
            )
        )
    return rows


def checked_summary(*, letter: Letter, lines: Sequence[bytes]) -> dict[str, int]:
    """The preview's counts for the stored rows as the letter stands now (which addresses have signed since)."""
    counts = dict.fromkeys(RowStatus.ALL, 0)
    candidates: list[str] = []
    for line in lines:
        item = json.loads(line)
        if item[1] in (RowStatus.NEW, RowStatus.ALREADY_SIGNED):
            candidates.append(item[4])
        else:
            counts[item[1]] += 1
    signed = live_keys(letter, candidates)
    for key in candidates:
        counts[RowStatus.ALREADY_SIGNED if key in signed else RowStatus.NEW] += 1
    return counts | {"total": len(lines)}
