"""An import whose letter stops taking signatures while it runs: it waits while the letter is paused and goes on when
it reopens; it stops for good, failed with the reason, when the letter closes (importing.jobs)."""

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from importing import tasks
from importing.jobs import import_run, import_run_batch
from importing.models import SignatureImport
from importing.services import import_start, import_undo, import_upload
from letters.models import Signature
from letters.services.lifecycle import letter_close, letter_open, letter_pause
from organizing.models import Membership
from registry.models import AuditEvent
from tests.factories import UserFactory
from tests.organizing.conftest import member

CSV = b"name,email\n" + b"".join(f"Signer {n},signer{n}@example.org\n".encode() for n in range(6))


@pytest.fixture
def organizer(db):
    return UserFactory(username="organizer")


@pytest.fixture
def queued(open_letter, organizer):
    imp = import_upload(letter=open_letter, data=CSV, filename="six.csv", actor=organizer).signature_import
    return import_start(signature_import=imp, mode="vouched", actor=organizer)


def state(imp: SignatureImport) -> tuple:
    imp.refresh_from_db()
    return imp.status, imp.rows_done, imp.error, Signature.objects.filter(letter=imp.letter).count()


def test_an_import_waits_while_its_letter_is_paused_and_goes_on_when_it_reopens(queued, open_letter, organizer):
    assert import_run_batch(signature_import_id=queued.pk, batch_rows=2) is True
    queued.refresh_from_db()
    heartbeat = queued.heartbeat_at
    letter_pause(letter=open_letter, actor=organizer)

    assert import_run_batch(signature_import_id=queued.pk, batch_rows=2) is False
    waiting = "Waiting at 2 of 6 rows: the letter is paused, and the import goes on when it reopens."
    assert state(queued) == ("running", 2, waiting, 2)
    assert queued.heartbeat_at == heartbeat  # left as it was: beat sees the import stalled and tries it again
    import_run(signature_import_id=queued.pk, batch_rows=2)  # beat's retry while still paused: nothing more
    assert state(queued) == ("running", 2, waiting, 2)

    letter_open(letter=open_letter, actor=organizer)
    import_run(signature_import_id=queued.pk, batch_rows=2)
    assert state(queued) == ("done", 6, "", 6)


def test_a_queued_import_on_a_paused_letter_gets_a_heartbeat_so_that_beat_retries_it(queued, open_letter, organizer):
    letter_pause(letter=open_letter, actor=organizer)
    import_run(signature_import_id=queued.pk, batch_rows=2)
    waiting = "Waiting at 0 of 6 rows: the letter is paused, and the import goes on when it reopens."
    assert state(queued) == ("queued", 0, waiting, 0)
    assert queued.heartbeat_at is not None
    SignatureImport.objects.filter(pk=queued.pk).update(heartbeat_at=timezone.now() - timedelta(minutes=3))
    letter_open(letter=open_letter, actor=organizer)
    assert tasks.imports_resume_stalled() == 1  # eager Celery: the job runs here
    assert state(queued) == ("done", 6, "", 6)


def test_an_import_stops_for_good_when_its_letter_closes_and_what_it_wrote_can_be_undone(
    queued, open_letter, organizer
):
    assert import_run_batch(signature_import_id=queued.pk, batch_rows=2) is True
    letter_close(letter=open_letter, actor=organizer)

    assert import_run_batch(signature_import_id=queued.pk, batch_rows=2) is False
    stopped = (
        "Stopped after 2 of 6 rows: This letter is closed: it no longer accepts signatures, and its final count is "
        "frozen."
    )
    assert state(queued) == ("failed", 2, stopped, 2)
    assert (queued.content, queued.checked, queued.finished_at is not None) == (b"", b"", True)
    audit = AuditEvent.objects.get(action="importing.import.stopped")
    assert (audit.target_id, audit.data) == (str(queued.pk), {"letter_status": "closed", "rows_done": 2})
    import_run(signature_import_id=queued.pk, batch_rows=2)  # a retry changes nothing
    assert state(queued) == ("failed", 2, stopped, 2)

    assert import_undo(signature_import=queued, actor=organizer) == 2
    assert Signature.objects.filter(letter=open_letter, status="confirmed").count() == 0


def test_the_api_shows_why_an_import_waits_and_how_its_file_was_read(client, open_letter):
    editor = member(open_letter, Membership.Role.EDITOR, username="editor")
    client.force_login(editor)
    base = f"/api/v1/manage/letters/{open_letter.slug}/imports/"
    semicolons = "name;email\nJosé Ñúñez;jose@example.org\n".encode("cp1252")
    answer = client.post(base, {"file": SimpleUploadedFile("latin.csv", semicolons)}, format="multipart")
    assert answer.status_code == 201, answer.json()
    assert answer.json()["read_as"] == {"kind": "csv", "encoding": "cp1252", "delimiter": ";"}
    assert answer.json()["rows"][0]["values"]["name"] == "José Ñúñez"

    imp = SignatureImport.objects.get(public_id=answer.json()["signature_import"]["id"])
    import_start(signature_import=imp, mode="vouched", actor=editor)
    letter_pause(letter=open_letter, actor=editor)
    import_run(signature_import_id=imp.pk)
    detail = client.get(f"{base}{imp.public_id}/").json()
    assert (detail["signature_import"]["status"], detail["signature_import"]["error"]) == (
        "queued",
        "Waiting at 0 of 1 rows: the letter is paused, and the import goes on when it reopens.",
    )
