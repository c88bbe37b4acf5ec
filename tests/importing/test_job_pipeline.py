"""The job prepares the next batch's rows in a second thread while the database writes the current one
(importing.jobs.import_run): same rows written, same resumability."""

from concurrent.futures import ThreadPoolExecutor

import pytest

from importing import jobs
from importing.jobs import import_run, import_run_batch
from importing.models import SignatureImport, SignatureImportRow
from importing.services import import_start, import_upload
from letters.models import Signature
from registry.models import ProtectedName
from registry.normalize import skeleton
from tests.factories import UserFactory

CSV = b"""name,email,title,organization
Ada Lovelace,ada@example.org,Analyst,Nvidia
Grace Hopper,grace@example.org,Admiral,Navy
Bad Row,,,
Ada Again,ADA@example.org,,
Alan Turing,alan@example.org,,
Katie Moussouris,katie@example.org,CEO,Luta Security
"""


@pytest.fixture
def organizer(db):
    return UserFactory(username="organizer")


@pytest.fixture
def queued(open_letter, organizer):
    imp = import_upload(letter=open_letter, data=CSV, filename="founders.csv", actor=organizer).signature_import
    import_start(signature_import=imp, mode="vouched", actor=organizer)  # its on-commit job waits: run here
    return imp


def outcomes(imp):
    return list(
        SignatureImportRow.objects.filter(signature_import=imp).order_by("number").values_list("number", "outcome")
    )


def test_preparing_a_batch_reads_nothing_from_the_database(queued, django_assert_num_queries):
    imp = SignatureImport.objects.defer("content", "checked").get(pk=queued.pk)
    lines = jobs.checked_lines(SignatureImport.objects.get(pk=queued.pk).checked)
    with django_assert_num_queries(0):
        prepared = jobs._batch_prepare(
            signature_import=imp, lines=lines, start=2, batch_rows=3, protected=lambda name: None
        )
    assert [row.number for row in prepared.rows] == [4, 5, 6]
    assert sorted(prepared.signers) == sorted(prepared.prepared) == [5, 6]  # row 4 is invalid


def test_the_pipelined_job_writes_what_batch_by_batch_writes(open_letter, organizer, queued):
    import_run(signature_import_id=queued.pk, batch_rows=2)
    other = import_upload(
        letter=open_letter, data=CSV.replace(b"@example.org", b"@example.net"), filename="b.csv", actor=organizer
    ).signature_import
    import_start(signature_import=other, mode="vouched", actor=organizer)
    while import_run_batch(signature_import_id=other.pk, batch_rows=2):
        pass
    assert (
        outcomes(queued)
        == outcomes(other)
        == [
            (2, "created"),
            (3, "created"),
            (5, "already_signed"),
            (6, "created"),
            (7, "created"),
        ]
    )
    queued.refresh_from_db()
    assert (queued.status, queued.rows_done, queued.rows_created, queued.rows_skipped) == ("done", 6, 4, 2)


def test_a_batch_prepared_for_a_watermark_that_moved_is_prepared_again(queued):
    with ThreadPoolExecutor(max_workers=1) as pool:
        more, ahead = jobs._batch_run(signature_import_id=queued.pk, batch_rows=2, pool=pool)
        assert more and ahead is not None and ahead.result().start == 2
        assert import_run_batch(signature_import_id=queued.pk, batch_rows=2)  # another worker took rows 2-3
        more, _ = jobs._batch_run(signature_import_id=queued.pk, batch_rows=2, ahead=ahead, pool=pool)
    assert more is False
    assert [number for number, _ in outcomes(queued)] == [2, 3, 5, 6, 7]
    assert Signature.objects.count() == 4


def test_a_worker_killed_mid_job_resumes_at_its_last_committed_batch(queued, monkeypatch):
    real = jobs.signatures_import_bulk
    calls = []

    def dies_on_the_second_batch(**kwargs):
        calls.append(1)
        written = real(**kwargs)
        if len(calls) == 2:
            raise RuntimeError("worker killed")
        return written

    monkeypatch.setattr(jobs, "signatures_import_bulk", dies_on_the_second_batch)
    with pytest.raises(RuntimeError):
        import_run(signature_import_id=queued.pk, batch_rows=2)
    queued.refresh_from_db()
    assert (queued.rows_done, Signature.objects.count()) == (2, 2)
    monkeypatch.setattr(jobs, "signatures_import_bulk", real)
    import_run(signature_import_id=queued.pk, batch_rows=2)
    queued.refresh_from_db()
    assert (queued.status, queued.rows_created, Signature.objects.count()) == ("done", 4, 4)


def test_holds_decided_ahead_use_the_protected_names(queued):
    ProtectedName.objects.create(name="Katie Moussouris", skeleton=skeleton("Katie Moussouris"))
    import_run(signature_import_id=queued.pk, batch_rows=2)  # Katie's row is in the last batch, prepared ahead
    held = Signature.objects.get(email_key="katie@example.org")
    assert held.hold_reason == Signature.HoldReason.PROTECTED_NAME
    assert set(Signature.objects.exclude(pk=held.pk).values_list("hold_reason", flat=True)) == {""}
