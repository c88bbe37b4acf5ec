"""Reading an uploaded spreadsheet (CSV in any delimiter and encoding, or XLSX values) into a table of text cells.

Everything structural is decided here, before anything is stored: size, row count, the uncompressed size of an XLSX
(zip bombs), an empty file, a missing or duplicated header, over-long cells. Cell *content* (formulas, control and
bidi characters) is checked per row by the preview, with the rules of public signing.

XLSX files are read with openpyxl in read-only, values-only mode: the cached value of a formula cell is read, never
the formula; macros are not loaded. defusedxml (installed beside openpyxl) guards its XML parser.
"""

import csv
import hashlib
import io
import re
import unicodedata
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime, time

import charset_normalizer
from django.conf import settings

CSV_DELIMITERS = ",;\t|"
_EMAIL_LIKE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_XLSX_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # .xls (BIFF) and other OLE compound files
_BOMS = (
    (b"\xef\xbb\xbf", "utf-8-sig"),
    (b"\xff\xfe\x00\x00", "utf-32"),
    (b"\x00\x00\xfe\xff", "utf-32"),
    (b"\xff\xfe", "utf-16"),
    (b"\xfe\xff", "utf-16"),
)


class FileRefused(Exception):
    """The file cannot be imported at all; `message` says why, for the `file` field."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Limits:
    max_bytes: int
    max_rows: int
    max_cell_chars: int
    max_xlsx_uncompressed_bytes: int
    max_columns: int = 100

    @classmethod
    def from_settings(cls) -> "Limits":
        return cls(
            max_bytes=settings.IMPORT_MAX_BYTES,
            max_rows=settings.IMPORT_MAX_ROWS,
            max_cell_chars=settings.IMPORT_MAX_CELL_CHARS,
            max_xlsx_uncompressed_bytes=settings.IMPORT_MAX_XLSX_UNCOMPRESSED_BYTES,
        )


@dataclass(frozen=True)
class Table:
    """A header and data rows of text. `rows[i]` is on row `numbers[i]` of the file as a spreadsheet shows it
    (blank rows count; a quoted cell over several lines is one row)."""

    kind: str  # "csv" or "xlsx"
    headers: list[str]
    rows: list[list[str]]
    numbers: list[int]
    sha256: str
    encoding: str = ""
    delimiter: str = ""
    notes: list[str] = field(default_factory=list)


def table_read(*, data: bytes, filename: str = "", limits: Limits | None = None) -> Table:
    """Read an upload into a Table, or raise FileRefused with a message an organizer can act on."""
    limits = limits or Limits.from_settings()
    if len(data) > limits.max_bytes:
        size, limit = _size(len(data)), _size(limits.max_bytes)
        if size == limit:
            size, limit = f"{len(data):,} bytes", f"{limits.max_bytes:,} bytes"
        raise FileRefused(f"The file is {size}; the limit is {limit}.")
    if not data.strip():
        raise FileRefused("The file is empty.")
    digest = hashlib.sha256(data).hexdigest()
    name = filename.lower()
    if data.startswith(_OLE_MAGIC) or name.endswith(".xls"):
        raise FileRefused("Old Excel files (.xls) are not read: save it as .xlsx or CSV.")
    if data.startswith(_XLSX_MAGIC):
        return _table_from_rows(_xlsx_rows(data, limits), kind="xlsx", sha256=digest, limits=limits)
    if name.endswith((".xlsx", ".xlsm")):
        raise FileRefused("This is not a valid .xlsx file.")
    text, encoding = _decode(data)
    delimiter = _delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=False)
    try:
        return _table_from_rows(
            _limited(reader, limits), kind="csv", sha256=digest, limits=limits, encoding=encoding, delimiter=delimiter
        )
    except csv.Error as exc:
        raise FileRefused(f"The CSV cannot be read: {exc}.") from exc


def _size(n: int) -> str:
    return f"{n / 1_000_000:.1f} MB" if n >= 1_000_000 else f"{n:,} bytes"


def _decode(data: bytes) -> tuple[str, str]:
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(encoding), encoding
            except UnicodeDecodeError as exc:
                raise FileRefused(f"The file starts with a {encoding} byte-order mark but is not {encoding}.") from exc
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    best = charset_normalizer.from_bytes(data[:1_000_000]).best()
    if best is None or best.encoding is None:
        raise FileRefused("The file's text encoding could not be recognised: save it as UTF-8 CSV or as .xlsx.")
    try:
        return data.decode(best.encoding), best.encoding
    except (UnicodeDecodeError, LookupError) as exc:
        raise FileRefused("The file's text encoding could not be recognised: save it as UTF-8 CSV or .xlsx.") from exc


def _delimiter(text: str) -> str:
    sample = text[:65536]
    first_line = sample.splitlines()[0] if sample.splitlines() else ""
    try:
        return csv.Sniffer().sniff(sample, delimiters=CSV_DELIMITERS).delimiter
    except csv.Error:
        # One column, or a sample the sniffer cannot settle: the most frequent delimiter of the header line.
        counts = {d: first_line.count(d) for d in CSV_DELIMITERS}
        best = max(counts, key=lambda d: counts[d])
        return best if counts[best] else ","


def _limited(rows, limits: Limits):
    for count, row in enumerate(rows, start=1):
        if count > limits.max_rows + 1:
            raise FileRefused(f"The file has more than {limits.max_rows:,} rows; split it or raise the limit.")
        yield row


def _xlsx_rows(data: bytes, limits: Limits):
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, ValueError) as exc:
        raise FileRefused("This is not a valid .xlsx file.") from exc
    if sum(info.file_size for info in infos) > limits.max_xlsx_uncompressed_bytes:
        raise FileRefused(
            f"The workbook unpacks to more than {_size(limits.max_xlsx_uncompressed_bytes)}; it cannot be read."
        )
    import openpyxl

    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True, keep_vba=False)
    except Exception as exc:  # openpyxl raises many types for a damaged or non-Excel zip
        raise FileRefused("This is not a valid .xlsx file.") from exc
    try:
        sheet = workbook.active or (workbook.worksheets[0] if workbook.worksheets else None)
        if sheet is None:
            raise FileRefused("The workbook has no sheet.")
        for count, row in enumerate(sheet.iter_rows(values_only=True), start=1):
            if count > limits.max_rows + 1:
                raise FileRefused(f"The file has more than {limits.max_rows:,} rows; split it or raise the limit.")
            yield [_cell_text(value) for value in row]
    finally:
        workbook.close()


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def header_key(text: str) -> str:
    """A header as compared for duplicates and recognition: case, accents, spacing and punctuation folded."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", " ", folded).strip()


def _table_from_rows(rows, *, kind: str, sha256: str, limits: Limits, encoding: str = "", delimiter: str = "") -> Table:
    headers: list[str] | None = None
    data: list[list[str]] = []
    numbers: list[int] = []
    for number, raw in enumerate(rows, start=1):
        cells = [cell if isinstance(cell, str) else _cell_text(cell) for cell in raw]
        for column, cell in enumerate(cells):
            if len(cell) > limits.max_cell_chars:
                raise FileRefused(
                    f"Row {number}, column {column_name(column)} has {len(cell):,} characters; "
                    f"cells are limited to {limits.max_cell_chars:,}."
                )
        if headers is None:
            if not any(cell.strip() for cell in cells):
                continue  # leading blank lines
            headers = _headers(cells, limits)
            continue
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) > len(headers) and any(cell.strip() for cell in cells[len(headers) :]):
            raise FileRefused(
                f"Row {number} has {len(cells)} cells but the header names {len(headers)} columns: "
                "add a header for every column."
            )
        data.append((cells + [""] * len(headers))[: len(headers)])
        numbers.append(number)
    if headers is None:
        raise FileRefused("The file is empty.")
    if not data:
        raise FileRefused("The file has a header row but no data rows.")
    return Table(
        kind=kind, headers=headers, rows=data, numbers=numbers, sha256=sha256, encoding=encoding, delimiter=delimiter
    )


def _headers(cells: list[str], limits: Limits) -> list[str]:
    while cells and not cells[-1].strip():
        cells = cells[:-1]
    headers = [cell.strip() for cell in cells]
    if len(headers) > limits.max_columns:
        raise FileRefused(f"The file has {len(headers)} columns; at most {limits.max_columns} are read.")
    if any(_EMAIL_LIKE.match(cell) for cell in headers):
        raise FileRefused(
            "The first row holds an email address, so it is data, not a header: "
            "add a first row that names the columns (for example: name, email, title, organization)."
        )
    seen: dict[str, int] = {}
    for index, header in enumerate(headers):
        key = header_key(header)
        if not key:
            continue
        if key in seen:
            raise FileRefused(
                f"Columns {column_name(seen[key])} and {column_name(index)} have the same header “{header}”: "
                "rename one of them."
            )
        seen[key] = index
    if not seen:
        raise FileRefused("The first row is not a header: name the columns (for example: name, email, organization).")
    return [header or f"Column {column_name(index)}" for index, header in enumerate(headers)]


def column_name(index: int) -> str:
    """Spreadsheet column letters: 0 → A, 25 → Z, 26 → AA."""
    name = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        name = chr(ord("A") + rest) + name
    return name
