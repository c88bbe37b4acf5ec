"""Hostile and unusual spreadsheets at the file layer (importing.files): encodings without marks, scripts other than
Latin, line endings, damaged or deceptive workbooks. Each is read right or refused with a message, never a crash."""

import io
import zipfile
from datetime import UTC, datetime

import openpyxl
import pytest
from openpyxl.chart import BarChart, Reference

from importing import files
from importing.files import FileRefused, Limits, table_read
from importing.mapping import mapping_guess
from importing.preview import preview_build

LIMITS = Limits(max_bytes=1_000_000, max_rows=50, max_cell_chars=300, max_xlsx_uncompressed_bytes=5_000_000)
NOW = datetime(2026, 12, 2, tzinfo=UTC)


def read(data: bytes, filename: str = "signers.csv"):
    return table_read(data=data, filename=filename, limits=LIMITS)


def refused(data: bytes, filename: str = "signers.csv") -> str:
    with pytest.raises(FileRefused) as caught:
        read(data, filename)
    return caught.value.message


def xlsx(rows, *, chart_first: bool = False) -> bytes:
    workbook = openpyxl.Workbook()
    for row in rows:
        workbook.active.append(row)
    if chart_first:
        chart = BarChart()
        chart.add_data(Reference(workbook.active, min_col=1, min_row=1, max_row=len(rows)))
        workbook.create_chartsheet("Chart", 0).add_chart(chart)
        workbook.active = 0
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


SHEET = "xl/worksheets/sheet1.xml"
SIGNERS = [["name", "email"], ["Ada", "ada@example.org"], ["Grace", "grace@example.org"]]


def rewritten(data: bytes, change, extra: dict[str, bytes] | None = None, compression=zipfile.ZIP_DEFLATED) -> bytes:
    """The workbook with its sheet's XML changed (and extra zip entries)."""
    source, out = zipfile.ZipFile(io.BytesIO(data)), io.BytesIO()
    with zipfile.ZipFile(out, "w", compression) as archive:
        for info in source.infolist():
            content = source.read(info.filename)
            archive.writestr(info.filename, change(content) if info.filename == SHEET else content)
        for name, content in (extra or {}).items():
            archive.writestr(name, content)
    return out.getvalue()


def dimension(ref: bytes):
    return lambda xml: xml.replace(b'<dimension ref="A1:B3" />', b'<dimension ref="' + ref + b'" />')


NAMES = "name,email\nJosé Ñúñez,jose@example.org\nZoë Lüdenscheidt,zoe@example.org\n"


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
@pytest.mark.parametrize("text", [NAMES, "name,email\nAda,ada@example.org\n"], ids=["accented", "ascii"])
def test_utf16_without_a_byte_order_mark_is_read(encoding, text):
    table = read(text.encode(encoding))  # ASCII-only UTF-16 is valid UTF-8: it was read as "n\x00a\x00m\x00e"
    assert (table.encoding, table.headers) == (encoding, ["name", "email"])
    assert table.rows == [line.split(",") for line in text.splitlines()[1:]]


@pytest.mark.parametrize(
    ("text", "encoding"),
    [
        (NAMES, "latin-1"),  # read as cp775: “Josķ č·±ez”
        ("name,email,organization\nFrançois Müller,f@example.org,Université de Genève\n", "cp1252"),  # “Genčve”
        ("name,email\nSøren Ødegård,s@example.dk\nÅsa Björk,a@example.se\n", "cp1252"),
        ("name,email,title\nSeán O’Brien,s@example.ie,“Chair” – board\n", "cp1252"),
    ],
)
def test_short_western_files_are_read_as_windows_1252(text, encoding):
    table = read(text.encode(encoding))
    assert table.encoding == "cp1252"
    assert [table.headers, *table.rows] == [line.split(",") for line in text.splitlines()]


@pytest.mark.parametrize(
    ("text", "encoding"),
    [
        ("Имя,Почта\nИван Петров,ivan@example.org\nМария Иванова,maria@example.org\n", "cp1251"),
        ("名前,メール,所属\n山田太郎,taro@example.jp,東京大学\n鈴木花子,hanako@example.jp,京都大学\n", "shift_jis"),
        ("姓名,邮箱\n张伟,zhang@example.cn\n王芳,wang@example.cn\n", "gbk"),  # was hp_roman8: “Åíû«”
    ],
)
def test_other_scripts_keep_the_detected_encoding(text, encoding):
    table = read(text.encode(encoding))
    assert [table.headers, *table.rows] == [line.split(",") for line in text.splitlines()]


def test_headers_in_other_scripts_are_headers_and_their_duplicates_are_refused():
    assert read("名前,メール\n山田太郎,taro@example.jp\n".encode()).headers == ["名前", "メール"]
    assert mapping_guess(["名前", "メール"]) == {}
    assert refused("Имя,ИМЯ,email\nИван,Пётр,i@example.org\n".encode()) == (
        "Columns A and B have the same header “ИМЯ”: rename one of them."
    )
    assert refused("Ｅｍａｉｌ,name,email\nx,y,z\n".encode()) == (
        "Columns A and C have the same header “email”: rename one of them."
    )
    assert mapping_guess(["Prénom", "Nom de famille", "Straße", "E-Mail"]) == {
        "first_name": 0,
        "last_name": 1,
        "email": 3,
    }


@pytest.mark.parametrize(
    "data",
    [
        b"name,email\rAda,ada@example.org\rGrace,grace@example.org\r",
        b"name,email\r\nAda,ada@example.org\rGrace,grace@example.org\n",
        b"\xef\xbb\xbf\r\n\r\nname;email\r\nAda;ada@example.org\r\nGrace;grace@example.org",
    ],
    ids=["cr-only", "mixed", "bom-blank-lines-no-final-newline"],
)
def test_any_line_ending_reads_the_same_rows(data):
    table = read(data)
    assert table.headers == ["name", "email"]
    assert table.rows == [["Ada", "ada@example.org"], ["Grace", "grace@example.org"]]


@pytest.mark.parametrize(
    "data",
    [
        b"sep=;\r\nname;email\r\nDoe, Jane;jane@example.org\r\n",
        b"\xef\xbb\xbfSEP=|\nname|email\nDoe, Jane|jane@example.org",
    ],
)
def test_excels_separator_line_names_the_delimiter_and_is_no_row(data):
    table = read(data)  # was read as the header: columns “sep” and “”, the real header a data row
    assert (table.headers, table.rows, table.numbers) == (["name", "email"], [["Doe, Jane", "jane@example.org"]], [2])


def test_nul_bytes_reach_the_row_checks_as_invalid_rows(letter_for_preview):
    table = read(b"name,email\nA\x00da,ada@example.org\nGrace,grace@example.org\n")
    rows = preview_build(letter=letter_for_preview, table=table, mapping=mapping_guess(table.headers), now=NOW).rows
    assert [(row.status, row.errors) for row in rows] == [
        ("invalid", {"name": ["Control characters are not allowed."]}),
        ("new", {}),
    ]


def test_a_quote_never_closed_is_refused_with_its_row_and_a_stray_quote_is_read():
    data = b'name,email\nAda,ada@example.org\n\n"Grace,grace@example.org\nAlan,alan@example.org\n'
    assert refused(data) == (  # was read as one row whose name held the rest of the file
        "Row 4 opens a quoted cell that is never closed, so the rest of the file would be one cell: "
        'add the closing " (and write a " inside a quoted cell as "").'
    )
    table = read(b'name,email,note\nAda,ada@example.org,5" floppy\n"Grace" H,grace@example.org,"a ""b"""\n')
    assert table.rows == [["Ada", "ada@example.org", '5" floppy'], ["Grace H", "grace@example.org", 'a "b"']]


def test_the_delimiter_is_sniffed_on_a_bounded_sample(monkeypatch):
    seen = []
    sniff = files.csv.Sniffer.sniff
    monkeypatch.setattr(
        files.csv.Sniffer, "sniff", lambda self, sample, **kw: seen.append(sample) or sniff(self, sample, **kw)
    )
    data = b"name;email\n" + b'Ada;"ada@example.org\n' * 3000  # 66 KB of quotes: 6 s for the sniffer's regexes
    assert refused(data.replace(b"ada@", b"a@"), "a.csv").startswith("The file has more than 50 rows")
    assert len(seen[0]) <= files.SNIFF_CHARS and seen[0].endswith("\n")


def test_a_header_too_wide_is_refused():
    header = ",".join(f"c{i}" for i in range(101)).encode()
    assert refused(header + b"\nAda\n") == "The file has 101 columns; at most 100 are read."
    wide_xlsx = xlsx([[f"c{i}" for i in range(101)], ["Ada"]])
    assert refused(wide_xlsx, "a.xlsx") == "The file has 101 columns; at most 100 are read."


@pytest.fixture
def letter_for_preview(db):
    from tests.factories import LetterFactory

    return LetterFactory(status="scheduled")


def test_a_quoted_cell_past_the_csv_field_limit_is_refused():
    data = b'name,email\n"' + b"x" * 140_000 + b'",a@example.org\n'
    big = Limits(max_bytes=1_000_000, max_rows=50, max_cell_chars=200_000, max_xlsx_uncompressed_bytes=1)
    with pytest.raises(FileRefused) as caught:
        table_read(data=data, filename="a.csv", limits=big)
    assert caught.value.message == "The CSV cannot be read: field larger than field limit (131072)."


@pytest.mark.parametrize(
    "change",
    [
        lambda xml: xml[: len(xml) // 2],
        lambda xml: xml.replace(b"<sheetData>", b"<sheetData><row r='1'><c><v>1</v></row>"),
    ],
    ids=["truncated", "mismatched-tags"],
)
def test_a_sheet_damaged_inside_a_valid_zip_is_refused_not_a_crash(change):
    assert refused(rewritten(xlsx(SIGNERS), change), "signers.xlsx") == (
        "This is not a valid .xlsx file: its sheet cannot be read."
    )


def test_an_entry_whose_crc_does_not_match_is_refused():
    data = bytearray(rewritten(xlsx(SIGNERS), lambda xml: xml, compression=zipfile.ZIP_STORED))
    start = data.index(b"grace@example.org")
    data[start : start + 5] = b"GRACE"  # the zip's central directory still vouches for the old bytes
    assert refused(bytes(data), "signers.xlsx").startswith("This is not a valid .xlsx file")


def test_a_chart_sheet_in_front_is_passed_over_for_the_first_worksheet():
    table = read(xlsx(SIGNERS, chart_first=True), "signers.xlsx")  # was AttributeError: no iter_rows
    assert table.rows == SIGNERS[1:]


@pytest.mark.parametrize("ref", [b"A1", b"A1:B2", b"A1:A1"])
def test_a_dimension_that_understates_the_sheet_loses_no_row(ref):
    table = read(rewritten(xlsx(SIGNERS), dimension(ref)), "signers.xlsx")
    assert table.rows == SIGNERS[1:]  # read-only mode stopped at the dimension's last row


def test_a_dimension_that_overstates_the_sheet_pads_no_row(monkeypatch):
    converted = []
    real = files._cell_text
    monkeypatch.setattr(files, "_cell_text", lambda value: converted.append(value) or real(value))
    table = read(rewritten(xlsx(SIGNERS), dimension(b"A1:XFD1048576")), "signers.xlsx")
    assert table.rows == SIGNERS[1:]
    assert len(converted) == 6  # not 3 × 16,384 cells


def test_a_value_far_right_is_refused_and_far_right_formatting_is_ignored():
    far_value = b'<row r="4"><c r="A4" t="inlineStr"><is><t>Alan</t></is></c><c r="XFD4"><v>1</v></c></row>'
    message = refused(
        rewritten(xlsx(SIGNERS), lambda x: x.replace(b"</sheetData>", far_value + b"</sheetData>")), "a.xlsx"
    )
    assert message == "Row 4 has values beyond column CV; at most 100 columns are read."
    styled = b'<row r="4"><c r="A4" t="inlineStr"><is><t>Alan</t></is></c><c r="XFD4" s="0" /></row>'
    table = read(rewritten(xlsx(SIGNERS), lambda x: x.replace(b"</sheetData>", styled + b"</sheetData>")), "a.xlsx")
    assert table.rows[-1] == ["Alan", ""]


def test_several_sheets_merged_cells_and_numbers_where_dates_belong():
    workbook = openpyxl.Workbook()
    workbook.active.title = "Signers"
    sheet = workbook.active
    for row in (
        ["name", "email", "organization", "signed at"],
        ["Ada", "ada@example.org", "Acme", 45600],
        ["Grace", "grace@example.org", None, datetime(2024, 5, 1, 10, 30)],
    ):
        sheet.append(row)
    sheet.merge_cells("C2:C3")
    workbook.create_sheet("Other").append(["ignored", "other@example.org"])
    out = io.BytesIO()
    workbook.save(out)
    table = read(out.getvalue(), "signers.xlsx")
    assert table.rows == [
        ["Ada", "ada@example.org", "Acme", "45600"],
        ["Grace", "grace@example.org", "", "2024-05-01 10:30:00"],
    ]


def test_an_empty_first_sheet_is_an_empty_file():
    workbook = openpyxl.Workbook()
    workbook.create_sheet("Signers").append(["name", "email"])
    out = io.BytesIO()
    workbook.save(out)
    assert refused(out.getvalue(), "signers.xlsx") == "The file is empty."


def test_entry_names_that_climb_out_are_never_extracted(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    evil = {"../../evil.txt": b"x", "/tmp/us_hf_evil.txt": b"y", "xl/../../evil2.txt": b"z"}
    table = read(rewritten(xlsx(SIGNERS), lambda xml: xml, extra=evil), "signers.xlsx")
    assert table.rows == SIGNERS[1:]
    assert list(tmp_path.iterdir()) == []
    assert not (tmp_path.parent.parent / "evil.txt").exists()


def test_a_sheet_of_blank_rows_up_to_the_last_row_is_refused_for_its_rows():
    last = b'<row r="1048576"><c r="A1048576" t="inlineStr"><is><t>x</t></is></c></row>'
    data = rewritten(xlsx(SIGNERS), lambda xml: xml.replace(b"</sheetData>", last + b"</sheetData>"))
    assert refused(data, "signers.xlsx") == "The file has more than 50 rows; split it or raise the limit."


def with_shared_strings(data: bytes, strings: bytes) -> bytes:
    """The workbook with a shared strings part, wired in as Excel does (openpyxl writes inline strings)."""
    wired = {
        "[Content_Types].xml": (
            b"</Types>",
            b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
            b'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>',
        ),
        "xl/_rels/workbook.xml.rels": (
            b"</Relationships>",
            b'<Relationship Id="rIdStrings" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
            b'relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>',
        ),
    }
    source, out = zipfile.ZipFile(io.BytesIO(data)), io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for info in source.infolist():
            content = source.read(info.filename)
            if info.filename in wired:
                content = content.replace(*wired[info.filename])
            archive.writestr(info.filename, content)
        archive.writestr(
            "xl/sharedStrings.xml",
            b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">' + strings + b"</sst>",
        )
    return out.getvalue()


def test_shared_strings_packed_like_a_bomb_are_refused_before_parsing():
    roomy = Limits(max_bytes=1_000_000, max_rows=50, max_cell_chars=300, max_xlsx_uncompressed_bytes=50_000_000)
    data = with_shared_strings(xlsx(SIGNERS), b"<si><t>a</t></si>" * 600_000)  # 10 MB in 25 KB: was 8 s to parse
    assert len(data) < 40_000
    with pytest.raises(FileRefused) as caught:
        table_read(data=data, filename="signers.xlsx", limits=roomy)
    assert caught.value.message.startswith("The workbook's part “xl/sharedStrings.xml” unpacks to ")
    assert caught.value.message.endswith(
        " times its packed size, as zip bombs do (workbooks: under 100); it cannot be read."
    )
    varied = with_shared_strings(xlsx(SIGNERS), b"".join(b"<si><t>%d</t></si>" % i for i in range(1000)))
    assert table_read(data=varied, filename="signers.xlsx", limits=roomy).rows == SIGNERS[1:]


def test_a_password_protected_workbook_is_named_as_such():
    # The head of an encrypted .xlsx: an OLE compound file whose directory names the EncryptedPackage stream.
    data = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 500 + "EncryptedPackage".encode("utf-16-le") + b"\x00" * 500
    assert refused(data, "signers.xlsx") == (  # was “Old Excel files (.xls) are not read”
        "The workbook is protected by a password: remove it in Excel, or save the sheet as CSV."
    )
    assert refused(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 1000, "old.xls").startswith("Old Excel files")
