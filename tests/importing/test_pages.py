import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from importing.models import SignatureImport
from letters.models import Signature
from organizing.models import Membership
from tests.factories import LetterFactory
from tests.organizing.conftest import member

CSV = (
    b"Full name;E-mail;Company\nAda Lovelace;ada@example.org;Nvidia\n;nobody@example.org;\nAda Again;ada@example.org;\n"
)


@pytest.fixture
def letter(db):
    return LetterFactory(slug="founders", status="scheduled")


@pytest.fixture
def editor(client, letter):
    client.force_login(member(letter, Membership.Role.EDITOR, username="editor"))
    return client


def test_upload_preview_start_and_undo_without_javascript(editor, letter, django_capture_on_commit_callbacks):
    page = editor.get("/manage/founders/imports/")
    assert page.status_code == 200
    assert b'enctype="multipart/form-data"' in page.content
    response = editor.post("/manage/founders/imports/", {"file": SimpleUploadedFile("f.csv", CSV)})
    imp = SignatureImport.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/manage/founders/imports/{imp.public_id}/"
    detail = editor.get(response["Location"]).content.decode()
    assert "<li><strong>1</strong> new</li>" in detail
    assert "<li><strong>1</strong> invalid</li>" in detail
    assert "The same address as row 2." in detail
    assert "name: This field is required." in detail
    missing_mode = editor.post(f"/manage/founders/imports/{imp.public_id}/start/", {})
    assert missing_mode.status_code == 400
    assert "This field is required." in missing_mode.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        editor.post(f"/manage/founders/imports/{imp.public_id}/start/", {"mode": "vouched"})
    done = editor.get(f"/manage/founders/imports/{imp.public_id}/").content.decode()
    assert '<progress id="import-progress" max="3" value="3"' in done
    assert "1 signature added; skipped: 1 already signed or repeated in the file, 1 invalid." in done
    assert Signature.objects.filter(letter=letter, verification_level="vouched").count() == 1
    editor.post(f"/manage/founders/imports/{imp.public_id}/undo/")
    assert Signature.objects.get(letter=letter).status == "rejected"


def test_a_running_import_refreshes_itself(editor, letter):
    editor.post("/manage/founders/imports/", {"file": SimpleUploadedFile("f.csv", CSV)})
    imp = SignatureImport.objects.get()
    SignatureImport.objects.filter(pk=imp.pk).update(status="running", mode="confirm")
    page = editor.get(f"/manage/founders/imports/{imp.public_id}/").content.decode()
    assert '<meta http-equiv="refresh" content="3">' in page
    assert 'data-live="1"' in page
    assert f'action="/manage/founders/imports/{imp.public_id}/stop/"' in page
    stopped = editor.post(f"/manage/founders/imports/{imp.public_id}/stop/", follow=True).content.decode()
    assert "The import was stopped: what it had written stays, and can be undone." in stopped
    assert "Stopped after 0 of 3 rows: stopped by the organizers" in stopped
    assert SignatureImport.objects.get().status == "failed"


def test_a_refused_upload_shows_the_reason(editor):
    response = editor.post("/manage/founders/imports/", {"file": SimpleUploadedFile("f.csv", b"name,name\na,b\n")})
    assert response.status_code == 400
    assert "Columns A and B have the same header “name”: rename one of them." in response.content.decode()
    assert SignatureImport.objects.count() == 0


def test_mapping_form_changes_the_mapping(editor):
    editor.post("/manage/founders/imports/", {"file": SimpleUploadedFile("f.csv", b"Who,Where\nAda,ada@example.org\n")})
    imp = SignatureImport.objects.get()
    assert (
        "Map the column that holds the signer"
        in editor.get(f"/manage/founders/imports/{imp.public_id}/").content.decode()
    )
    editor.post(f"/manage/founders/imports/{imp.public_id}/mapping/", {"map_name": "0", "map_email": "1"})
    imp.refresh_from_db()
    assert imp.mapping == {"name": 0, "email": 1}


def test_another_letters_import_pages_are_not_found(editor, client):
    other = LetterFactory(slug="other")
    owner = member(other, Membership.Role.OWNER, second_factor=True, username="owner-other")
    other_client = client.__class__()
    other_client.force_login(owner)
    other_client.post("/manage/other/imports/", {"file": SimpleUploadedFile("f.csv", CSV)})
    theirs = SignatureImport.objects.get(letter=other).public_id
    for url in (f"/manage/founders/imports/{theirs}/", f"/manage/other/imports/{theirs}/", "/manage/other/imports/"):
        assert editor.get(url).status_code == 404
    assert editor.post(f"/manage/founders/imports/{theirs}/start/", {"mode": "vouched"}).status_code == 404
    assert SignatureImport.objects.get(letter=other).status == "preview"


def test_the_page_says_how_the_file_was_read_and_why_an_import_stopped(editor, letter):
    editor.post("/manage/founders/imports/", {"file": SimpleUploadedFile("f.csv", CSV)})
    imp = SignatureImport.objects.get()
    page = editor.get(f"/manage/founders/imports/{imp.public_id}/").content.decode()
    assert (
        '<p data-testid="import-read-as">Read as CSV in utf-8, semicolon-separated. If names below look garbled, save'
        " the file as UTF-8 CSV or .xlsx and upload it again.</p>"
    ) in page
    SignatureImport.objects.filter(pk=imp.pk).update(
        status="failed", mode="vouched", error="Stopped after 0 of 3 rows."
    )
    page = editor.get(f"/manage/founders/imports/{imp.public_id}/").content.decode()
    assert (
        '<p class="alert alert--error" role="status" data-testid="import-error">Stopped after 0 of 3 rows.</p>' in page
    )
    assert "Undo this import</button>" in page


def test_a_stored_file_that_can_no_longer_be_read_sends_the_organizer_back_with_why(editor, letter, settings):
    editor.post("/manage/founders/imports/", {"file": SimpleUploadedFile("f.csv", CSV)})
    imp = SignatureImport.objects.get()
    SignatureImport.objects.filter(pk=imp.pk).update(content=b"\xd0\xcf\x11\xe0 an old .xls now")
    response = editor.get(f"/manage/founders/imports/{imp.public_id}/", follow=True)
    assert response.redirect_chain == [("/manage/founders/imports/", 302)]
    assert (
        "The file of this import can no longer be read (Old Excel files (.xls) are not read: save it as .xlsx or CSV.):"
        " discard it and upload it again."
    ) in response.content.decode()
