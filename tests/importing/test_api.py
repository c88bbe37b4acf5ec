import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from importing.models import SignatureImport
from letters.models import Signature
from organizing.models import Membership
from tests.builders import public_count
from tests.factories import LetterFactory
from tests.organizing.conftest import member

CSV = b"""Name,Email,Company
Ada Lovelace,ada@example.org,Nvidia
Grace Hopper,grace@example.org,=cmd()
Alan Turing,alan@example.org,
Ada Again,ada@example.org,
"""


@pytest.fixture
def letter(db):
    return LetterFactory(slug="founders", status="scheduled")


@pytest.fixture
def editor_client(client, letter):
    client.force_login(member(letter, Membership.Role.EDITOR, username="editor"))
    return client


def upload(client, slug="founders", data=CSV, name="founders.csv"):
    return client.post(
        f"/api/v1/manage/letters/{slug}/imports/", {"file": SimpleUploadedFile(name, data)}, format="multipart"
    )


def test_upload_answers_the_preview(editor_client):
    response = upload(editor_client)
    assert response.status_code == 201
    body = response.json()
    assert body["signature_import"]["status"] == "preview"
    assert body["signature_import"]["summary"] == {
        "new": 2,
        "already_signed": 0,
        "duplicate_in_file": 1,
        "invalid": 1,
        "total": 4,
    }
    assert body["headers"] == ["Name", "Email", "Company"]
    assert [(r["row"], r["status"]) for r in body["rows"]] == [
        (2, "new"),
        (3, "invalid"),
        (4, "new"),
        (5, "duplicate_in_file"),
    ]
    assert body["rows"][1]["errors"] == {
        "organization": ["Must not start with =, +, -, @, a tab or a carriage return (spreadsheet formulas)."]
    }
    assert body["rows"][0]["organization_match"] == "new"
    assert Signature.objects.count() == 0


def test_a_refused_file_is_a_field_error_and_stores_nothing(editor_client):
    response = upload(editor_client, data=b"\n\n")
    assert response.status_code == 400
    assert response.json() == {"detail": "Invalid input.", "errors": {"file": ["The file is empty."]}}
    assert SignatureImport.objects.count() == 0


def test_mapping_start_progress_and_undo(editor_client, letter, django_capture_on_commit_callbacks):
    created = upload(editor_client).json()["signature_import"]
    base = f"/api/v1/manage/letters/founders/imports/{created['id']}/"
    bad = editor_client.put(base + "mapping", {"mapping": {"name": 0, "email": 0}}, content_type="application/json")
    assert bad.status_code == 400
    assert bad.json()["errors"] == {
        "mapping.email": ["Column A (“Name”) is already mapped to name: a column can hold one field only."]
    }
    assert editor_client.post(base + "start", {}, content_type="application/json").status_code == 400
    with django_capture_on_commit_callbacks(execute=True):
        started = editor_client.post(base + "start", {"mode": "vouched"}, content_type="application/json")
    assert started.status_code == 202
    detail = editor_client.get(base).json()["signature_import"]
    assert (detail["status"], detail["rows_created"], detail["rows_skipped"]) == ("done", 2, 2)
    assert detail["progress"]["percent"] == 100
    assert detail["progress"]["seconds_left"] == 0
    assert Signature.objects.filter(letter=letter, status="confirmed", verification_level="vouched").count() == 2
    again = editor_client.post(base + "start", {"mode": "vouched"}, content_type="application/json")
    assert again.status_code == 409
    assert again.json()["detail"] == "This import has already started."
    undone = editor_client.post(base + "undo", content_type="application/json")
    assert undone.status_code == 200
    assert undone.json()["status"] == "undone"
    assert public_count(letter) == 0


def test_a_running_import_is_stopped_at_its_next_batch_and_then_undone(editor_client, letter):
    from importing.jobs import import_run_batch
    from registry.models import AuditEvent

    created = upload(editor_client).json()["signature_import"]
    base = f"/api/v1/manage/letters/founders/imports/{created['id']}/"
    editor_client.post(base + "start", {"mode": "vouched"}, content_type="application/json")  # job not run: queued
    imp = SignatureImport.objects.get()
    assert import_run_batch(signature_import_id=imp.pk, batch_rows=1) is True  # one row written, more to come
    stopped = editor_client.post(base + "stop", content_type="application/json")
    assert stopped.status_code == 200
    body = stopped.json()
    assert (body["status"], body["rows_done"], body["error"]) == (
        "failed",
        1,
        "Stopped after 1 of 4 rows: stopped by the organizers",
    )
    assert import_run_batch(signature_import_id=imp.pk, batch_rows=1) is False  # the job writes nothing more
    assert Signature.objects.filter(letter=letter).count() == 1
    audit = AuditEvent.objects.get(action="importing.import.stopped")
    assert (audit.actor.username, audit.data) == ("editor", {"by": "organizer", "rows_done": 1})
    again = editor_client.post(base + "stop", content_type="application/json")
    assert (again.status_code, again.json()["detail"]) == (409, "Only a queued or running import can be stopped.")
    assert editor_client.post(base + "undo", content_type="application/json").json()["status"] == "undone"
    assert Signature.objects.get(letter=letter).status == "rejected"


def test_rejected_rows_download_quotes_formulas(editor_client):
    created = upload(editor_client).json()["signature_import"]
    response = editor_client.get(f"/api/v1/manage/letters/founders/imports/{created['id']}/rejected.csv")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response.content.decode().splitlines() == [
        "row,problem,Name,Email,Company",
        '3,"organization: Must not start with =, +, -, @, a tab or a carriage return (spreadsheet formulas).",'
        "Grace Hopper,grace@example.org,'=cmd()",
        "5,The same address as row 2.,Ada Again,ada@example.org,",
    ]


def test_another_letters_import_is_not_found(editor_client, client, db):
    other = LetterFactory(slug="other")
    other_owner_client = client.__class__()
    other_owner_client.force_login(member(other, Membership.Role.OWNER, second_factor=True, username="other-owner"))
    theirs = upload(other_owner_client, slug="other").json()["signature_import"]["id"]
    for url in (
        f"/api/v1/manage/letters/founders/imports/{theirs}/",
        f"/api/v1/manage/letters/other/imports/{theirs}/",
        f"/api/v1/manage/letters/founders/imports/{theirs}/rejected.csv",
    ):
        assert editor_client.get(url).status_code == 404
    assert upload(editor_client, slug="other").status_code == 404


def test_viewers_and_moderators_cannot_import(client, letter):
    for role in (Membership.Role.VIEWER, Membership.Role.MODERATOR):
        client.force_login(member(letter, role, username=f"a-{role}"))
        response = upload(client)
        assert response.status_code == 403
        assert response.json()["detail"] == "Your role in this letter does not allow this."
    assert SignatureImport.objects.count() == 0


def test_signer_invitations_api(editor_client, letter, django_capture_on_commit_callbacks):
    url = "/api/v1/manage/letters/founders/signer-invitations/"
    with django_capture_on_commit_callbacks(execute=True):
        created = editor_client.post(
            url, {"name": "Katie Moussouris", "email": "Katie@Example.org"}, content_type="application/json"
        )
    assert created.status_code == 201
    body = created.json()
    assert (body["email"], body["state"], body["import_id"]) == (
        "Katie@example.org",
        "queued",
        None,
    )  # sent after commit
    listed = editor_client.get(url).json()
    assert listed["counts"]["sent"] == 1
    assert [i["id"] for i in listed["invitations"]] == [body["id"]]
    twice = editor_client.post(url, {"name": "Katie", "email": "katie@example.org"}, content_type="application/json")
    assert twice.status_code == 400
    assert twice.json()["errors"] == {"email": ["This address already has an open invitation: remind or revoke it."]}
    revoked = editor_client.post(f"{url}{body['id']}/revoke", content_type="application/json")
    assert revoked.json()["state"] == "revoked"
    again = editor_client.post(f"{url}{body['id']}/remind", content_type="application/json")
    assert again.status_code == 409
    assert again.json()["detail"] == "This invitation is revoked; it is not sent again."


def test_a_json_body_or_a_huge_file_is_refused_cleanly(editor_client, settings):
    url = "/api/v1/manage/letters/founders/imports/"
    as_json = editor_client.post(url, {"file": "x"}, content_type="application/json")
    assert as_json.status_code == 415
    settings.IMPORT_MAX_BYTES = 1000
    big = upload(editor_client, data=b"name,email\n" + b"a,b@example.org\n" * 200)
    assert big.status_code == 400
    assert big.json() == {
        "detail": "Invalid input.",
        "errors": {"file": ["The file is 3,211 bytes; the limit is 1,000 bytes."]},
    }
    assert SignatureImport.objects.count() == 0
