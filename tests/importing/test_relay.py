"""Two batches in flight (importing.relay, PostgreSQL): the same rows as the sequential path, batches committed in
order, a batch that dies leaves nothing half-done and the job resumes, and a letter paused mid-way stops the relay."""

import pytest

from importing import jobs, relay, services
from importing.jobs import import_run
from importing.models import SignatureImport, SignatureImportRow
from importing.services import import_start, import_upload
from letters.models import Signature
from letters.services.lifecycle import letter_pause
from registry.models import Organization
from tests.builders import signed
from tests.factories import LetterFactory, UserFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

BATCH = 4


def spreadsheet() -> bytes:
    """30 rows over eight batches of four: addresses repeated across batch boundaries (rows 4 and 6 of the data,
    9 and 14), a new organization in every batch and one named in several, an invalid row, one that signed before."""
    lines = ["name,email,organization"]
    for n in range(30):
        email = f"signer{n}@example.org"
        if n == 5:
            email = "signer3@example.org"  # the batch after its first row's
        if n == 13:
            email = "SIGNER8@example.org"  # two batches later
        name = "" if n == 20 else f"Signer {n}"
        lines.append(f"{name},{email},{'Shared Lab' if n % 3 == 0 else f'Lab {n // BATCH}'}")
    lines.append("Signed Before,before@example.org,")
    return ("\n".join(lines) + "\n").encode()


def queued_import(organizer, slug):
    letter = LetterFactory(status="open", slug=slug)
    signed(letter, name="Signed Before", email="before@example.org")
    services._enqueue = lambda import_id: None  # the job runs below, as a worker runs it
    imp = import_upload(letter=letter, data=spreadsheet(), filename="s.csv", actor=organizer).signature_import
    return import_start(signature_import=imp, mode="vouched", actor=organizer)


def written(imp):
    imp.refresh_from_db()
    rows = list(
        SignatureImportRow.objects.filter(signature_import=imp).order_by("number").values_list("number", "outcome")
    )
    live = Signature.objects.filter(letter=imp.letter, status="confirmed")
    return {
        "status": imp.status,
        "counts": (imp.rows_done, imp.rows_created, imp.rows_skipped),
        "rows": rows,
        "signatures": sorted(live.values_list("email_key", "verification_level", "organization__name")),
    }


@pytest.fixture
def organizer():
    return UserFactory(username="organizer")


@pytest.fixture
def turns(monkeypatch):
    """Relay batches that reached the import's lock, by index."""
    seen = []
    locked = relay.Turn.locked

    def spy(self, start):
        seen.append(self.index)
        return locked(self, start)

    monkeypatch.setattr(relay.Turn, "locked", spy)
    return seen


def test_the_relay_writes_exactly_what_the_sequential_path_writes(organizer, turns, settings):
    settings.IMPORT_RELAY = False
    one_by_one = queued_import(organizer, "sequential")
    import_run(signature_import_id=one_by_one.pk, batch_rows=BATCH)
    assert turns == []
    settings.IMPORT_RELAY = True
    relayed = queued_import(organizer, "relayed")
    import_run(signature_import_id=relayed.pk, batch_rows=BATCH)

    assert sorted(turns) == list(range(7))  # the first batch sequential, the seven others in the relay
    expected = written(one_by_one)
    assert expected["status"] == "done"
    assert expected["counts"] == (31, 27, 4)  # skipped: the invalid row, two repeats, the one who signed before
    assert written(relayed) == expected
    assert Organization.objects.filter(name="Shared Lab").count() == 1


def test_a_batch_that_dies_in_the_relay_leaves_nothing_half_done_and_the_job_resumes(organizer, turns, monkeypatch):
    imp = queued_import(organizer, "dies")
    real = jobs.signatures_import_bulk
    calls = []

    def dies_on_the_fourth_batch(**kwargs):
        calls.append(1)
        result = real(**kwargs)
        if len(calls) == 4:
            raise RuntimeError("worker killed")
        return result

    monkeypatch.setattr(jobs, "signatures_import_bulk", dies_on_the_fourth_batch)
    with pytest.raises(RuntimeError):
        import_run(signature_import_id=imp.pk, batch_rows=BATCH)
    state = written(imp)
    done = state["counts"][0]
    assert state["status"] == "running" and done in (12, 16)  # batches commit in order; the fourth never did
    assert [number for number, _ in state["rows"]] == list(range(2, done + 2))
    assert len(state["signatures"]) == state["counts"][1] + 1  # and the one who signed before

    monkeypatch.setattr(jobs, "signatures_import_bulk", real)
    import_run(signature_import_id=imp.pk, batch_rows=BATCH)
    state = written(imp)
    assert (state["status"], state["counts"]) == ("done", (31, 27, 4))
    assert len(state["signatures"]) == 28


def test_a_letter_paused_during_the_relay_stops_it_and_the_import_waits(organizer, turns, monkeypatch):
    imp = queued_import(organizer, "paused")
    committed = relay.Relay.committed

    def pause_after_the_first(self, index):
        committed(self, index)
        if index == 0:
            letter_pause(letter=imp.letter, actor=organizer)

    monkeypatch.setattr(relay.Relay, "committed", pause_after_the_first)
    import_run(signature_import_id=imp.pk, batch_rows=BATCH)
    state = written(imp)
    # The batch in flight when the letter paused had begun before it (as a signer's request may) and commits.
    assert (state["status"], state["counts"][0]) == ("running", 12)
    assert SignatureImport.objects.get(pk=imp.pk).error == (
        "Waiting at 12 of 31 rows: the letter is paused, and the import goes on when it reopens."
    )
    assert sorted(turns) == [0, 1]
