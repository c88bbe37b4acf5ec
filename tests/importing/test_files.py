import hashlib
import io
import zipfile

import openpyxl
import pytest

from importing.files import FileRefused, Limits, column_name, table_read

LIMITS = Limits(max_bytes=100_000, max_rows=50, max_cell_chars=300, max_xlsx_uncompressed_bytes=2_000_000)


def read(data: bytes, filename: str = "signers.csv", limits: Limits = LIMITS):
    return table_read(data=data, filename=filename, limits=limits)


def refused(data: bytes, filename: str = "signers.csv", limits: Limits = LIMITS) -> str:
    with pytest.raises(FileRefused) as caught:
        read(data, filename, limits)
    return caught.value.message


def xlsx(rows: list[list[object]]) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_csv_delimiter_is_detected(delimiter):
    text = delimiter.join(["Name", "Email", "Organization"]) + "\n"
    text += delimiter.join(["Ada Lovelace", "ada@example.org", "Analytical, Ltd" if delimiter != "," else "Acme"])
    table = read(text.encode())
    assert table.delimiter == delimiter
    assert table.headers == ["Name", "Email", "Organization"]
    assert table.rows[0][:2] == ["Ada Lovelace", "ada@example.org"]
    assert table.numbers == [2]


def test_utf8_bom_is_dropped_and_utf16_is_read():
    text = "name,email\nJosé Ñúñez,jose@example.org\n"
    assert read(b"\xef\xbb\xbf" + text.encode()).headers == ["name", "email"]
    table = read(text.encode("utf-16"))
    assert table.encoding == "utf-16"
    assert table.rows == [["José Ñúñez", "jose@example.org"]]


def test_legacy_encoding_is_detected():
    text = "name,email,organization\n" + "".join(
        f"Zoë Müller-Lüdenscheidt {i},zoe{i}@example.org,Société Générale Straße\n" for i in range(20)
    )
    table = read(text.encode("cp1252"))
    assert table.rows[0][0] == "Zoë Müller-Lüdenscheidt 0"
    assert table.rows[0][2] == "Société Générale Straße"


def test_quoted_cells_keep_delimiters_and_newlines_and_row_numbers_count_records():
    data = b'name,email,note\n"Doe, Jane",jane@example.org,"line one\nline two"\nBob,bob@example.org,\n'
    table = read(data)
    assert table.rows[0] == ["Doe, Jane", "jane@example.org", "line one\nline two"]
    assert table.numbers == [2, 3]


def test_blank_rows_are_skipped_and_short_rows_padded():
    table = read(b"\n\nname,email,title\n\nAda,ada@example.org\n,,\n")
    assert table.rows == [["Ada", "ada@example.org", ""]]
    assert table.numbers == [5]  # the row a spreadsheet shows it on


def test_xlsx_values_are_read_as_text_and_formulas_never_run():
    data = xlsx(
        [
            ["Name", "Email", "Signed at", "Score"],
            ["Ada", "ada@example.org", "2024-05-01", 3.0],
            ["=1+1", "x@example.org", None, None],
        ]
    )
    table = read(data, "signers.xlsx")
    assert table.kind == "xlsx"
    assert table.rows[0] == ["Ada", "ada@example.org", "2024-05-01", "3"]
    # openpyxl saves no cached value for a formula it wrote, so the values-only read gives an empty cell
    assert table.rows[1][0] in ("", "=1+1")


@pytest.mark.parametrize(
    ("data", "filename", "message"),
    [
        (b"", "a.csv", "The file is empty."),
        (b"  \n\n ", "a.csv", "The file is empty."),
        (b"name,email\n", "a.csv", "The file has a header row but no data rows."),
        (b"ada@example.org,Ada\nbob@example.org,Bob\n", "a.csv", "The first row holds an email address"),
        (b"Name,Email,name\nA,a@example.org,B\n", "a.csv", "Columns A and C have the same header"),
        (b"name,email\nA,a@example.org,extra\n", "a.csv", "Row 2 has 3 cells but the header names 2 columns"),
        (b"\xd0\xcf\x11\xe0" + b"\0" * 100, "old.xls", "Old Excel files (.xls) are not read"),
        (b"PK\x03\x04garbage", "a.xlsx", "This is not a valid .xlsx file."),
        (b"name,email\n", "a.xlsx", "This is not a valid .xlsx file."),
    ],
)
def test_structural_problems_are_refused_with_a_message(data, filename, message):
    assert message in refused(data, filename)


def test_size_row_and_cell_limits():
    assert (
        refused(b"name,email\n" + b"a,b@example.org\n" * 8000)
        == "The file is 128,011 bytes; the limit is 100,000 bytes."
    )
    assert "more than 50 rows" in refused(b"name,email\n" + b"a,b@example.org\n" * 51)
    assert len(read(b"name,email\n" + b"a,b@example.org\n" * 50).rows) == 50
    long_cell = ("x" * 301).encode()
    assert refused(b"name,email\n" + long_cell + b",a@example.org\n") == (
        "Row 2, column A has 301 characters; cells are limited to 300."
    )


def test_a_zip_bomb_is_refused_before_it_is_unpacked():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", b"0" * 3_000_000)
    message = refused(out.getvalue(), "bomb.xlsx")
    assert message == "The workbook unpacks to more than 2.0 MB; it cannot be read."


def test_file_sha256_identifies_the_upload():
    data = b"name,email\nAda,ada@example.org\n"
    assert read(data).sha256 == hashlib.sha256(data).hexdigest()
    assert read(data + b"Bob,bob@example.org\n").sha256 != read(data).sha256


def test_column_names():
    assert [column_name(i) for i in (0, 25, 26, 51, 701, 702)] == ["A", "Z", "AA", "AZ", "ZZ", "AAA"]
