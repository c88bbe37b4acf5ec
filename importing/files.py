"""Reading an uploaded spreadsheet (CSV in any delimiter and encoding, or XLSX values) into a table of text cells.

Everything structural is decided here, before anything is stored: size, row count, the uncompressed size of an XLSX
(zip bombs), an empty file, a missing or duplicated header, over-long cells. Cell *content* (formulas, control and
bidi characters) is checked per row by the preview, with the rules of public signing.

XLSX files are read with openpyxl in read-only, values-only mode: the cached value of a formula cell is read, never
the formula; macros are not loaded. defusedxml (installed beside openpyxl) guards its XML parser.
"""

import csv
import functools
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
SNIFF_CHARS = 8192  # of text, for the delimiter
ENCODING_SAMPLE = 1_000_000  # bytes (and then characters) for the encoding
_SEPARATOR_LINE = re.compile(r"^[ \t]*sep=([,;\t|])[ \t]*(?:\r\n|\r|\n)", re.IGNORECASE)
_EMAIL_LIKE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_XLSX_MAGIC = b"PK\x03\x04"
MAX_INFLATE_RATIO = 100  # Apache POI's zip bomb ratio (ZipSecureFile.setMinInflateRatio(0.01))
INFLATE_CHECKED_BYTES = 1_000_000  # smaller parts cost nothing to unpack, whatever their ratio
_OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # .xls (BIFF) and other OLE compound files
# A password-protected .xlsx is an OLE file holding the encrypted zip as this stream (its name in UTF-16).
_ENCRYPTED_PACKAGE = "EncryptedPackage".encode("utf-16-le")
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
    if data.startswith(_OLE_MAGIC) and _ENCRYPTED_PACKAGE in data[:1_000_000]:
        raise FileRefused("The workbook is protected by a password: remove it in Excel, or save the sheet as CSV.")
    if data.startswith(_OLE_MAGIC) or name.endswith(".xls"):
        raise FileRefused("Old Excel files (.xls) are not read: save it as .xlsx or CSV.")
    if data.startswith(_XLSX_MAGIC):
        return _table_from_rows(_xlsx_rows(data, limits), kind="xlsx", sha256=digest, limits=limits)
    if name.endswith((".xlsx", ".xlsm")):
        raise FileRefused("This is not a valid .xlsx file.")
    text, encoding = _decode(data)
    hint = _SEPARATOR_LINE.match(text)  # Excel's "sep=;" first line: the delimiter, and a line Excel does not show
    if hint:
        text = text[hint.end() :]
    delimiter = hint.group(1) if hint else _delimiter(text)
    csv_table = functools.partial(
        _csv_table, text=text, delimiter=delimiter, sha256=digest, limits=limits, encoding=encoding
    )
    # Strictly first, for a quote never closed: the tolerant reader runs its cell to the end of the file, every row
    # after it lost in one cell. Well-formed files read the same either way.
    try:
        return csv_table(strict=True)
    except csv.Error:
        pass  # a stray quote (`5" floppy`, `"a"b`): read tolerantly
    try:
        return csv_table(strict=False)
    except csv.Error as exc:
        raise FileRefused(f"The CSV cannot be read: {exc}.") from exc


def _csv_table(*, text: str, delimiter: str, strict: bool, sha256: str, limits: Limits, encoding: str) -> Table:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=strict)
    return _table_from_rows(
        _limited(reader, limits), kind="csv", sha256=sha256, limits=limits, encoding=encoding, delimiter=delimiter
    )


def _size(n: int) -> str:
    return f"{n / 1_000_000:.1f} MB" if n >= 1_000_000 else f"{n:,} bytes"


def _decode(data: bytes) -> tuple[str, str]:
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(encoding), encoding
            except UnicodeDecodeError as exc:
                raise FileRefused(f"The file starts with a {encoding} byte-order mark but is not {encoding}.") from exc
    if b"\x00" in data[:4096]:
        unmarked = _utf16_unmarked(data)
        if unmarked:
            return unmarked
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    best = charset_normalizer.from_bytes(data[:ENCODING_SAMPLE], cp_exclusion=_NOT_SPREADSHEET_ENCODINGS).best()
    if best is None or best.encoding is None:
        raise FileRefused("The file's text encoding could not be recognised: save it as UTF-8 CSV or as .xlsx.")
    try:
        text, encoding = data.decode(best.encoding), best.encoding
    except (UnicodeDecodeError, LookupError) as exc:
        raise FileRefused("The file's text encoding could not be recognised: save it as UTF-8 CSV or .xlsx.") from exc
    return _western_if_latin(data, text, encoding)


# DOS, EBCDIC, old Mac and HP code pages: no spreadsheet writes them today, and on a few short lines the detector
# prefers them to the right one (GBK-encoded Chinese names read as hp_roman8 give “Åíû«”).
_NOT_SPREADSHEET_ENCODINGS = [
    *("cp037", "cp273", "cp424", "cp500", "cp875", "cp1026", "cp1140", "cp1006", "cp1125"),
    *("cp437", "cp720", "cp737", "cp775", "cp850", "cp852", "cp855", "cp856", "cp857", "cp858", "cp860", "cp861"),
    *("cp862", "cp863", "cp864", "cp865", "cp866", "cp869", "hp_roman8", "kz1048", "ptcp154", "koi8_t"),
    *("mac_iceland", "mac_latin2", "mac_greek", "mac_cyrillic", "mac_turkish"),
]
# Besides letters, what Windows-1252 text holds outside ASCII: typographic quotes, dashes, ellipsis, euro, no-break
# space, guillemets, middle dot, degree.
_WESTERN_MARKS = frozenset("‘’‚“”„–—…€\u00a0«»·•°")
_WORD = re.compile(r"[^\W\d_]+")


def _western_if_latin(data: bytes, text: str, encoding: str) -> tuple[str, str]:
    """Windows-1252 (Excel's “CSV” on Western systems) rather than the detector's guess, when that guess reads only
    Latin letters, or words mixing Latin letters with another script. On a few names the detector cannot tell the
    single-byte code pages apart: it reads “José Ñúñez” as cp1256 (“José رٌْez”) and “Genève” as cp1250 (“Genčve”).
    A reading in one other script (Cyrillic, Greek, CJK) is kept, and so is one that Windows-1252 cannot decode or
    turns into symbols."""
    if encoding.replace("-", "").replace("_", "").lower() == "cp1252" or not _single_byte(encoding):
        return text, encoding
    try:
        western = data.decode("cp1252")
    except UnicodeDecodeError:
        return text, encoding
    sample, western_sample = text[:ENCODING_SAMPLE], western[:ENCODING_SAMPLE]
    if (
        (_latin_letters(sample) or _mixes_scripts(sample))
        and all(char.isascii() or char.isalpha() or char in _WESTERN_MARKS for char in western_sample)
        and _latin_letters(western_sample)
    ):
        return western, "cp1252"
    return text, encoding


def _single_byte(encoding: str) -> bool:
    return len(bytes(range(256)).decode(encoding, errors="replace")) == 256


def _latin(char: str) -> bool:
    return char.isascii() or unicodedata.name(char, "").startswith("LATIN")


def _latin_letters(text: str) -> bool:
    return all(_latin(char) for char in text if not char.isascii() and char.isalpha())


def _mixes_scripts(text: str) -> bool:
    """Whether a word has both ASCII letters and letters of another script than Latin (a wrong code page's mark)."""
    letters = "".join(char for char in text if not unicodedata.combining(char))
    return any(
        not word.isascii() and any(char.isascii() for char in word) and not all(_latin(char) for char in word)
        for word in _WORD.findall(letters)
    )


def _utf16_unmarked(data: bytes) -> tuple[str, str] | None:
    """UTF-16 without a byte-order mark (valid UTF-8 when it is all ASCII: a NUL beside each letter), told by where
    the NULs fall in the first characters."""
    sample = data[:4096]
    sample = sample[: len(sample) - len(sample) % 2]
    pairs = len(sample) // 2
    for encoding, zeros in (("utf-16-le", sample[1::2]), ("utf-16-be", sample[0::2])):
        if pairs and zeros.count(0) >= 0.9 * pairs:
            try:
                return data.decode(encoding), encoding
            except UnicodeDecodeError:
                return None
    return None


def _delimiter(text: str) -> str:
    # Blank lines before the header count as rows of no delimiter: the sniffer would find none consistent. Its quote
    # regexes take time quadratic in the sample (64 KB of `a,"b` lines took 6 s, of `,"a` 12 s): whole lines only,
    # within SNIFF_CHARS.
    sample = text.lstrip(" \t\r\n")[:SNIFF_CHARS]
    if len(sample) == SNIFF_CHARS and "\n" in sample:
        sample = sample[: sample.rindex("\n") + 1]
    first_line = sample.splitlines()[0] if sample.splitlines() else ""
    try:
        return csv.Sniffer().sniff(sample, delimiters=CSV_DELIMITERS).delimiter
    except csv.Error:
        # One column, or a sample the sniffer cannot settle: the most frequent delimiter of the header line.
        counts = {d: first_line.count(d) for d in CSV_DELIMITERS}
        best = max(counts, key=lambda d: counts[d])
        return best if counts[best] else ","


def _limited(rows, limits: Limits):
    count = 0
    try:
        for count, row in enumerate(rows, start=1):
            if count > limits.max_rows + 1:
                raise FileRefused(f"The file has more than {limits.max_rows:,} rows; split it or raise the limit.")
            yield row
    except csv.Error as exc:
        if str(exc) != "unexpected end of data":  # what a strict reader says of a quote still open at the end
            raise
        raise FileRefused(
            f"Row {count + 1} opens a quoted cell that is never closed, so the rest of the file would be one cell: "
            'add the closing " (and write a " inside a quoted cell as "").'
        ) from exc


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
    # Within the size limit a bomb still costs: openpyxl parses every shared string, used or not (10 MB of
    # `<si><t>a</t></si>`, packed in 25 KB, is 600,000 strings and 8 s). Workbooks pack 5 to 20 to 1; bombs 1,000.
    for info in infos:
        ratio = info.file_size // max(info.compress_size, 1)
        if info.file_size > INFLATE_CHECKED_BYTES and ratio > MAX_INFLATE_RATIO:
            raise FileRefused(
                f"The workbook's part “{info.filename[:100]}” unpacks to {ratio:,} times its packed size, as zip "
                f"bombs do (workbooks: under {MAX_INFLATE_RATIO}); it cannot be read."
            )
    import openpyxl

    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True, keep_vba=False)
    except Exception as exc:  # openpyxl raises many types for a damaged or non-Excel zip
        raise FileRefused("This is not a valid .xlsx file.") from exc
    try:
        # The active sheet may be a chart sheet, which has no cells: then the first worksheet.
        worksheets, active = workbook.worksheets, workbook.active
        sheet = next((each for each in worksheets if each is active), worksheets[0] if worksheets else None)
        if sheet is None:
            raise FileRefused("The workbook has no sheet.")
        # The sheet's declared dimension is the writer's claim: read-only mode would stop at its last row (rows
        # beyond it silently lost) and pad every row to its last column (A1:XFD1 makes each row 16,384 cells).
        sheet.reset_dimensions()
        rows = enumerate(sheet.iter_rows(values_only=True), start=1)
        wide = limits.max_columns + 1  # one more than read, so that a header one too wide is refused as such
        while True:
            try:  # the sheet's XML and its zip entry are read lazily, row by row: damage shows up only here
                count, row = next(rows)
            except StopIteration:
                return
            except Exception as exc:
                raise FileRefused("This is not a valid .xlsx file: its sheet cannot be read.") from exc
            if count > limits.max_rows + 1:
                raise FileRefused(f"The file has more than {limits.max_rows:,} rows; split it or raise the limit.")
            if len(row) > wide and row[wide:].count(None) < len(row) - wide:
                raise FileRefused(
                    f"Row {count} has values beyond column {column_name(limits.max_columns - 1)}; "
                    f"at most {limits.max_columns} columns are read."
                )
            yield [_cell_text(value) for value in row[:wide]]
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
    """A header as compared for duplicates and recognition: case, accents, spacing and punctuation folded. Letters of
    any script are kept (“名前”, “Имя” are headers, and “Имя” twice is a duplicate)."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    folded = "".join(char for char in decomposed if not unicodedata.combining(char))
    return re.sub(r"[\W_]+", " ", folded).strip()


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
