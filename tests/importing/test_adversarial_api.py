"""Hostile uploads and requests against the import API (issue 15): every refusal is a 4xx in the one error shape,
and leaves nothing stored; nothing done twice, by anyone but the letter's editors, doubles or leaks anything."""

import io
import threading
import unicodedata
import zipfile

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.utils import timezone

from importing.jobs import import_run_batch
from importing.models import SignatureImport, SignatureImportRow
from letters.models import Letter, Signature
from organizing.models import Membership
from registry.models import AuditEvent, Person
from tests.factories import LetterFactory
from tests.organizing.conftest import member

BASE = "/api/v1/manage/letters/founders/imports/"
CSV = b"name,email\nAda Lovelace,ada@example.org\nGrace Hopper,grace@example.org\n"


@pytest.fixture
def letter(db):
    return LetterFactory(slug="founders", status="open")


@pytest.fixture
def editor(client, letter):
    client.force_login(member(letter, Membership.Role.EDITOR, username="editor"))
    return client


def upload(client, data=CSV, name="signers.csv", slug="founders", **fields):
    return client.post(
        f"/api/v1/manage/letters/{slug}/imports/",
        {"file": SimpleUploadedFile(name, data), **fields},
        format="multipart",
    )


def stored() -> tuple[int, int, int, int, int]:
    """Imports, their rows, signatures, people and import audit events: what a refusal must leave untouched."""
    return (
        SignatureImport.objects.count(),
        SignatureImportRow.objects.count(),
        Signature.objects.count(),
        Person.objects.count(),
        AuditEvent.objects.filter(action__startswith="importing.").count(),
    )


NOTHING = (0, 0, 0, 0, 0)


def refused_file(message: str) -> dict:
    return {"detail": "Invalid input.", "errors": {"file": [message]}}


def xlsx(rows) -> bytes:
    workbook = openpyxl.Workbook()
    for row in rows:
        workbook.active.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def rewritten(data: bytes, name: str, change) -> bytes:
    """The workbook with one zip entry's content changed."""
    source, out = zipfile.ZipFile(io.BytesIO(data)), io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for info in source.infolist():
            content = source.read(info.filename)
            archive.writestr(info.filename, change(content) if info.filename == name else content)
    return out.getvalue()


SHEET = "xl/worksheets/sheet1.xml"
NOT_XLSX = "This is not a valid .xlsx file."


@pytest.mark.parametrize(
    ("data", "name", "message"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 8, "signers.csv", "encoding could not be"),
        (b"name,email\nAda,ada@example.org\n", "signers.xlsx", NOT_XLSX),
        (b"PK\x03\x04" + b"\x00" * 200, "signers.xlsx", NOT_XLSX),
        (b"PK\x03\x04" + b"\x00" * 200, "signers.csv", NOT_XLSX),  # a zip is read as one, whatever its name
        (
            rewritten(xlsx([["name", "email"], ["Ada", "a@example.org"]]), SHEET, lambda c: c[: len(c) // 2]),
            "a.xlsx",
            "",
        ),
        (b"\xff\xfeA", "signers.csv", "The file starts with a utf-16 byte-order mark but is not utf-16."),
        (b"\xef\xbb\xbf\r\n\r\n", "signers.csv", "The file is empty."),
        (b"name;email\r\n", "signers.csv", "The file has a header row but no data rows."),
        (b"Email , EMAIL\nx,y\n", "signers.csv", "Columns A and B have the same header “EMAIL”: rename one of them."),
    ],
)
def test_a_file_that_cannot_be_read_is_a_file_error_and_stores_nothing(editor, data, name, message):
    response = upload(editor, data, name)
    assert response.status_code == 400
    body = response.json()
    assert list(body) == ["detail", "errors"] and list(body["errors"]) == ["file"]
    assert message in body["errors"]["file"][0]
    if name.endswith(".xlsx") and not message:  # a damaged sheet, found only when its rows are read: was a 500
        assert body == refused_file("This is not a valid .xlsx file: its sheet cannot be read.")
    assert stored() == NOTHING


def test_a_missing_empty_or_textual_file_field_is_a_field_error(editor):
    cases = [
        ({}, "No file was submitted."),
        ({"file": SimpleUploadedFile("empty.csv", b"")}, "The submitted file is empty."),
        ({"file": "name,email"}, "The submitted data was not a file. Check the encoding type on the form."),
    ]
    for fields, message in cases:
        response = editor.post(BASE, fields, format="multipart")
        assert (response.status_code, response.json()) == (400, refused_file(message))
    assert stored() == NOTHING


@pytest.mark.parametrize(
    ("name", "kept"),
    [
        ("../../etc/signers.csv", "signers.csv"),
        ("si\x00gn\u202eers.csv", "signers.csv"),
        ("s" * 300 + ".csv", "s" * 251 + ".csv"),
    ],
)
def test_the_uploaded_file_name_is_kept_without_paths_or_invisible_characters(editor, name, kept):
    response = upload(editor, name=name)
    assert response.status_code == 201
    assert response.json()["signature_import"]["filename"] == kept
    assert SignatureImport.objects.get().filename == kept


@pytest.mark.parametrize(
    "data",
    [
        "name,email\nJosé Ñúñez,jose@example.org\n".encode("utf-16-le"),
        "name,email\nJosé Ñúñez,jose@example.org\n".encode("utf-16-be"),
        "name,email\nJosé Ñúñez,jose@example.org\n".encode("utf-16"),
        "name,email\nJosé Ñúñez,jose@example.org\n".encode("latin-1"),
        b"\xef\xbb\xbf\n\nname|email\rJos\xc3\xa9 \xc3\x91\xc3\xba\xc3\xb1ez|jose@example.org\r",
    ],
    ids=["utf16le-no-bom", "utf16be-no-bom", "utf16-bom", "latin-1", "bom-blank-lines-pipe-cr"],
)
def test_every_encoding_previews_the_same_name(editor, data):
    response = upload(editor, data)
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["headers"] == ["name", "email"]
    assert [row["values"] for row in body["rows"]] == [{"name": "José Ñúñez", "email": "jose@example.org"}]
    assert body["signature_import"]["summary"]["new"] == 1
    assert Signature.objects.count() == 0


def test_a_shift_jis_file_with_japanese_headers_is_kept_for_mapping(editor):
    data = "名前,メール\n山田太郎,taro@example.jp\n".encode("shift_jis")
    response = upload(editor, data)
    assert response.status_code == 201  # was refused: “The first row is not a header”
    body = response.json()
    assert body["headers"] == ["名前", "メール"]
    assert body["mapping_errors"] == {
        "mapping.name": ["Map the column that holds the signer's name."],
        "mapping.email": ["Map the column that holds the signer's email address."],
    }
    mapped = editor.put(
        f"{BASE}{body['signature_import']['id']}/mapping",
        {"mapping": {"name": 0, "email": 1}},
        content_type="application/json",
    )
    assert mapped.status_code == 200
    assert [row["values"] for row in mapped.json()["rows"]] == [{"name": "山田太郎", "email": "taro@example.jp"}]


def test_an_xlsx_whose_dimension_understates_its_rows_loses_none(editor):
    data = xlsx([["name", "email"], ["Ada", "ada@example.org"], ["Grace", "grace@example.org"]])
    data = rewritten(data, SHEET, lambda c: c.replace(b'<dimension ref="A1:B3" />', b'<dimension ref="A1" />'))
    response = upload(editor, data, "signers.xlsx")
    assert response.status_code == 201
    assert response.json()["signature_import"]["rows_total"] == 2  # was 0 rows read: "no data rows"


def test_limits_refuse_just_over_and_accept_at(editor, settings):
    settings.IMPORT_MAX_ROWS = 2
    over = upload(editor, CSV + b"Alan Turing,alan@example.org\n")
    assert over.json() == refused_file("The file has more than 2 rows; split it or raise the limit.")
    assert over.status_code == 400
    settings.IMPORT_MAX_CELL_CHARS = 10_000
    long_name = b"x" * 10_001
    too_long = upload(editor, b"name,email\n" + long_name + b",ada@example.org\n")
    assert too_long.json() == refused_file("Row 2, column A has 10,001 characters; cells are limited to 10,000.")
    long_header = upload(editor, b"name,email," + long_name + b"\nAda,ada@example.org,\n")
    assert long_header.json() == refused_file("Row 1, column C has 10,001 characters; cells are limited to 10,000.")
    assert stored() == NOTHING
    assert upload(editor, CSV).status_code == 201


@pytest.mark.parametrize(
    ("mapping", "errors"),
    [
        (
            '{"name": 0, "email": 0}',
            {"mapping.email": ["Column A (“name”) is already mapped to name: a column can hold one field only."]},
        ),
        ('{"name": 0, "email": 7}', {"mapping.email": ["Choose one of the file's columns."]}),
        ('{"name": "0", "email": 1}', {"mapping.name": ["Choose one of the file's columns."]}),
        (
            '{"name": 0, "email": 1, "colour": 1}',
            {
                "mapping": [
                    "“colour” is not a field; choose one of name, first_name, last_name, email, title, organization, "
                    "signed_at, note."
                ]
            },
        ),
        ("[0, 1]", {"mapping": ['An object such as {"name": 0, "email": 1}.']}),
        ("7", {"mapping": ['An object such as {"name": 0, "email": 1}.']}),
        ("{name: 0}", {"mapping": ["Value must be valid JSON."]}),
    ],
)
def test_an_explicit_mapping_that_cannot_be_used_refuses_the_upload(editor, mapping, errors):
    response = upload(editor, mapping=mapping)
    assert response.status_code == 400
    assert response.json() == {"detail": "Invalid input.", "errors": errors}
    assert stored() == NOTHING


def test_an_explicit_good_mapping_or_null_is_used(editor):
    given = upload(editor, b"email,name\nada@example.org,Ada Lovelace\n", mapping='{"email": 0, "name": 1}')
    assert given.status_code == 201
    assert given.json()["signature_import"]["mapping"] == {"email": 0, "name": 1}
    guessed = upload(editor, mapping="null")
    assert guessed.status_code == 201
    assert guessed.json()["signature_import"]["mapping"] == {"name": 0, "email": 1}


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ([0, 1], {"non_field_errors": ["Invalid data. Expected a dictionary, but got list."]}),
        ({"mapping": [0, 1]}, {"mapping": ['Expected a dictionary of items but got type "list".']}),
        ({"mapping": None}, {"mapping": ["This field may not be null."]}),
        ({"mapping": {"name": "0", "email": 1}}, {"mapping.name": ["A valid integer is required."]}),
        ({"mapping": {"name": True, "email": 1}}, {"mapping.name": ["A valid integer is required."]}),
        ({"mapping": {"name": None, "email": 1}}, {"mapping.name": ["This field may not be null."]}),
        ({"mapping": {"name": -1, "email": 1}}, {"mapping.name": ["Ensure this value is greater than or equal to 0."]}),
        ({"mapping": {"name": 10**30, "email": 1}}, {"mapping.name": ["Choose one of the file's columns."]}),
        (
            {"mapping": {"first_name": 0, "name": 0, "email": 1}},
            {
                "mapping.name": [
                    "Column A (“name”) is already mapped to given name: a column can hold one field only.",
                    "Map either a name column or given and family name columns.",
                ]
            },
        ),
    ],
)
def test_a_mapping_of_the_wrong_json_types_is_a_field_error_and_changes_nothing(editor, body, errors):
    created = upload(editor).json()["signature_import"]
    before = stored()
    response = editor.put(f"{BASE}{created['id']}/mapping", body, content_type="application/json")
    assert response.status_code == 400
    assert response.json() == {"detail": "Invalid input.", "errors": errors}
    assert SignatureImport.objects.get().mapping == {"name": 0, "email": 1}
    assert stored() == before


def test_unicode_and_idn_addresses_are_checked_like_public_signing(editor, django_capture_on_commit_callbacks):
    decomposed = unicodedata.normalize("NFD", "José Again,josé@exämple.org")
    data = (
        "name,email\nJosé Ñúñez,josé@exämple.org\nZoë Ïsland,zoe@xn--exmple-cua.org\n"
        f"Bidi Mail,evil\u202e@example.org\nAda Lovelace,ADA@Example.ORG\n{decomposed}\n"
        "José Punycode,josé@xn--exmple-cua.org\nTrailing Dot,ada@example.org.\n"
    ).encode()
    response = upload(editor, data)
    assert response.status_code == 201
    rows = response.json()["rows"]
    assert [(row["row"], row["status"], row["duplicate_of_row"]) for row in rows] == [
        (2, "new", None),
        (3, "new", None),
        (4, "invalid", None),
        (5, "new", None),
        (6, "duplicate_in_file", 2),  # the same address, its letters decomposed
        (7, "duplicate_in_file", 2),  # the same address, its domain in punycode
        (8, "invalid", None),
    ]
    with django_capture_on_commit_callbacks(execute=True):
        started = editor.post(
            f"{BASE}{response.json()['signature_import']['id']}/start",
            {"mode": "vouched"},
            content_type="application/json",
        )
    assert started.status_code == 202
    done = editor.get(f"{BASE}{response.json()['signature_import']['id']}/").json()["signature_import"]
    assert (done["status"], done["rows_created"], done["rows_skipped"]) == ("done", 3, 4)
    assert sorted(Signature.objects.values_list("email_key", flat=True)) == [
        "ada@example.org",
        "josé@xn--exmple-cua.org",
        "zoe@xn--exmple-cua.org",
    ]


def test_public_signatures_show_no_imported_address(editor, letter, django_capture_on_commit_callbacks):
    created = upload(editor).json()["signature_import"]
    with django_capture_on_commit_callbacks(execute=True):
        editor.post(f"{BASE}{created['id']}/start", {"mode": "vouched"}, content_type="application/json")
    public = Client().get(f"/api/v1/letters/{letter.slug}/signatures/")
    assert public.status_code == 200
    assert "Ada Lovelace" in public.content.decode()
    assert b"@example.org" not in public.content


def test_start_discard_undo_refuse_out_of_order_and_never_double(editor, django_capture_on_commit_callbacks):
    created = upload(editor).json()["signature_import"]
    url = f"{BASE}{created['id']}/"
    with django_capture_on_commit_callbacks(execute=True):
        assert editor.post(url + "start", {"mode": "vouched"}, content_type="application/json").status_code == 202
    assert Signature.objects.count() == 2
    conflicts = [
        (url + "discard", {}, "Only an import in preview can be discarded."),
        (url + "start", {"mode": "confirm"}, "This import has already started."),
    ]
    for path, body, detail in conflicts:
        response = editor.post(path, body, content_type="application/json")
        assert (response.status_code, response.json()) == (409, {"detail": detail, "errors": {}})
    mapping = editor.put(url + "mapping", {"mapping": {"name": 1, "email": 0}}, content_type="application/json")
    assert mapping.json() == {"detail": "This import has started; its mapping can no longer change.", "errors": {}}
    assert editor.post(url + "undo", content_type="application/json").status_code == 200
    for path, body, detail in [
        (url + "undo", {}, "Only a finished (or stopped) import can be undone."),
        (url + "start", {"mode": "vouched"}, "This import has already started."),
    ]:
        response = editor.post(path, body, content_type="application/json")
        assert (response.status_code, response.json()) == (409, {"detail": detail, "errors": {}})
    assert Signature.objects.filter(status="rejected").count() == 2
    assert Signature.objects.count() == 2
    rejected = editor.get(url + "rejected.csv")
    assert rejected.status_code == 409


def test_the_rejected_rows_download_quotes_formula_headers_too(editor):
    data = b'name,email,=HYPERLINK("http://x.example")\n,nobody@example.org,\n'
    created = upload(editor, data).json()["signature_import"]
    response = editor.get(f"{BASE}{created['id']}/rejected.csv")
    assert response.content.decode().splitlines() == [
        'row,problem,name,email,"\'=HYPERLINK(""http://x.example"")"',  # was a live formula in Excel
        "2,name: This field is required.,,nobody@example.org,",
    ]


@pytest.mark.parametrize(
    ("status", "detail"),
    [
        ("draft", "This letter is not accepting signatures."),
        ("paused", "Signing this letter is paused for now; please try again later."),
        ("closed", "This letter is closed: it no longer accepts signatures, and its final count is frozen."),
    ],
)
def test_an_import_cannot_start_on_a_letter_that_takes_no_signatures(editor, letter, status, detail):
    created = upload(editor).json()["signature_import"]  # a preview reads only: allowed
    Letter.objects.filter(pk=letter.pk).update(status=status, closed_at=timezone.now() if status == "closed" else None)
    started = editor.post(f"{BASE}{created['id']}/start", {"mode": "vouched"}, content_type="application/json")
    assert (started.status_code, started.json()) == (409, {"detail": detail, "errors": {}})  # was 202: added
    assert SignatureImport.objects.get().status == "preview"
    assert (Signature.objects.count(), SignatureImportRow.objects.count()) == (0, 0)


def test_the_upload_page_shows_a_damaged_workbook_as_a_form_error(editor):
    damaged = rewritten(xlsx([["name", "email"], ["Ada", "a@example.org"]]), SHEET, lambda c: c[: len(c) // 2])
    response = editor.post("/manage/founders/imports/", {"file": SimpleUploadedFile("signers.xlsx", damaged)})
    assert response.status_code == 400  # was a 500
    assert "This is not a valid .xlsx file: its sheet cannot be read." in response.content.decode()
    assert stored() == NOTHING


def test_overlapping_imports_started_together_create_each_address_once(editor, django_capture_on_commit_callbacks):
    first = upload(editor).json()["signature_import"]
    second = upload(editor, b"email,name\ngrace@example.org,Grace H.\nalan@example.org,Alan Turing\n").json()
    second = second["signature_import"]
    with django_capture_on_commit_callbacks(execute=False):  # both queued before either job runs
        for created in (first, second):
            started = editor.post(f"{BASE}{created['id']}/start", {"mode": "vouched"}, content_type="application/json")
            assert started.status_code == 202
    assert SignatureImport.objects.get(public_id=second["id"]).summary["new"] == 2
    for created in (second, first):
        pk = SignatureImport.objects.get(public_id=created["id"]).pk
        while import_run_batch(signature_import_id=pk, batch_rows=1):
            pass
    assert sorted(Signature.objects.values_list("email_key", flat=True)) == [
        "ada@example.org",
        "alan@example.org",
        "grace@example.org",
    ]
    outcomes = dict(SignatureImport.objects.values_list("public_id", "rows_created"))
    assert (outcomes[second["id"]], outcomes[first["id"]]) == (2, 1)
    assert SignatureImportRow.objects.filter(outcome="already_signed").count() == 1


@pytest.mark.parametrize("role", [Membership.Role.VIEWER, Membership.Role.MODERATOR])
def test_viewers_and_moderators_cannot_touch_an_import_by_id(editor, letter, role):
    created = upload(editor).json()["signature_import"]
    before = stored()
    client = Client()
    client.force_login(member(letter, role, username=f"someone-{role}"))
    url = f"{BASE}{created['id']}/"
    forbidden = {"detail": "Your role in this letter does not allow this.", "errors": {}}
    for response in (
        client.get(url),
        client.get(url + "rejected.csv"),
        client.get(BASE),
        client.put(url + "mapping", {"mapping": {"name": 1, "email": 0}}, content_type="application/json"),
        client.post(url + "start", {"mode": "vouched"}, content_type="application/json"),
        client.post(url + "discard", content_type="application/json"),
        client.post(url + "undo", content_type="application/json"),
    ):
        assert (response.status_code, response.json()) == (403, forbidden)
    assert stored() == before
    assert SignatureImport.objects.get().status == "preview"


def test_outsiders_and_other_letters_organizers_find_no_import(editor, db):
    created = upload(editor).json()["signature_import"]
    other = LetterFactory(slug="other")
    theirs = Client()
    theirs.force_login(member(other, Membership.Role.OWNER, second_factor=True, username="other-owner"))
    outsider = Client()
    outsider.force_login(member(LetterFactory(slug="third"), Membership.Role.VIEWER, username="outsider"))
    before = stored()
    for client, slug, detail in (
        (theirs, "founders", "No such letter."),
        (theirs, "other", "Not found."),  # their letter, another letter's import id
        (outsider, "founders", "No such letter."),
        (outsider, "other", "No such letter."),
    ):
        url = f"/api/v1/manage/letters/{slug}/imports/{created['id']}/"
        for response in (
            client.get(url),
            client.get(url + "rejected.csv"),
            client.put(url + "mapping", {"mapping": {"name": 1, "email": 0}}, content_type="application/json"),
            client.post(url + "start", {"mode": "vouched"}, content_type="application/json"),
            client.post(url + "discard", content_type="application/json"),
            client.post(url + "undo", content_type="application/json"),
        ):
            assert (response.status_code, response.json()) == (404, {"detail": detail, "errors": {}})
    assert stored() == before
    own = upload(theirs, slug="other").json()["signature_import"]["id"]
    for path in ("", "rejected.csv"):
        assert editor.get(f"{BASE}{own}/{path}").status_code == 404
    assert editor.post(f"{BASE}{own}/start", {"mode": "vouched"}, content_type="application/json").status_code == 404
    assert SignatureImport.objects.get(public_id=created["id"]).status == "preview"
    anonymous = Client().get(f"{BASE}{created['id']}/")
    assert (anonymous.status_code, anonymous.json()["errors"]) == (403, {})


def test_a_file_accepted_then_over_a_lowered_limit_still_answers(editor, settings):
    created = upload(editor).json()["signature_import"]
    settings.IMPORT_MAX_ROWS = 1
    response = editor.get(f"{BASE}{created['id']}/")
    assert response.status_code == 200
    assert response.json()["signature_import"]["rows_total"] == 2
    assert editor.get(f"{BASE}{created['id']}/rejected.csv").status_code == 200


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL: concurrent row locks")
def test_two_starts_at_once_run_the_import_once(letter, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    user = member(letter, Membership.Role.EDITOR, username="racer")
    first = Client()
    first.force_login(user)
    created = upload(first).json()["signature_import"]
    answers = []
    barrier = threading.Barrier(2)

    def start():
        client = Client()
        client.force_login(user)
        barrier.wait()
        answers.append(
            client.post(f"{BASE}{created['id']}/start", {"mode": "vouched"}, content_type="application/json")
        )
        connection.close()

    threads = [threading.Thread(target=start) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(answer.status_code for answer in answers) == [202, 409]
    assert Signature.objects.count() == 2
    assert SignatureImportRow.objects.count() == 2
    assert AuditEvent.objects.filter(action="importing.import.started").count() == 1
