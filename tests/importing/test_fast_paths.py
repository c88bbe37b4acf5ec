"""The import's fast paths (issue 15, P7): the job writes the rows the upload checked without checking them again,
rows go in through COPY on PostgreSQL with what bulk_create would write, export lines and the log queue follow by
statement triggers, and the job yields to signers."""

import string
import unicodedata
from datetime import UTC, datetime

import pytest
from confusable_homoglyphs import categories
from django.core.exceptions import ValidationError

from importing import jobs, pacing
from importing.checked import checked_lines, checked_parse
from importing.jobs import import_run
from importing.models import SignatureImport
from importing.services import import_mapping_set, import_start, import_upload
from letters.exports import export_csv, export_csv_copy, export_lines_differences
from letters.models import ExportLine, LogQueue, Signature, SignatureEvent
from letters.selectors import letter_signatures_public
from letters.typed_text import _BIDI, clean_comment, clean_line
from registry.audit import audit_event_build
from registry.bulk import rows_insert, values_insert
from registry.models import Affiliation, AuditEvent, Person
from registry.normalize import is_mixed_script
from registry.services import person_name_fields
from tests.builders import signed
from tests.factories import PersonEmailFactory, PersonFactory, UserFactory

CSV = b"""name,email,title,organization,signed at
Ada Lovelace,ada@example.org,Analyst,Nvidia,2026-11-30
Grace Hopper,grace@example.org,Admiral,Navy,
Bad Row,,,,
Ada Again,ADA@example.org,,,
Alan Turing,alan@example.org,,,
"""


@pytest.fixture
def organizer(db):
    return UserFactory(username="organizer")


def upload(letter, organizer, data=CSV):
    return import_upload(letter=letter, data=data, filename="founders.csv", actor=organizer).signature_import


def start_and_run(signature_import, organizer, mode="vouched", batch_rows=2):
    import_start(signature_import=signature_import, mode=mode, actor=organizer)  # its on-commit job waits: run here
    import_run(signature_import_id=signature_import.pk, batch_rows=batch_rows)
    signature_import.refresh_from_db()
    return signature_import


def test_the_upload_keeps_its_checked_rows_in_file_order(open_letter, organizer):
    imp = upload(open_letter, organizer)
    rows = checked_parse(checked_lines(imp.checked))
    assert [(row.number, row.status) for row in rows] == [
        (2, "new"),
        (3, "new"),
        (4, "invalid"),
        (5, "duplicate_in_file"),
        (6, "new"),
    ]
    assert (rows[0].name, rows[0].email, rows[0].email_key, rows[0].title, rows[0].organization) == (
        "Ada Lovelace",
        "ada@example.org",
        "ada@example.org",
        "Analyst",
        "Nvidia",
    )
    assert rows[0].signed_at == datetime(2026, 11, 30, tzinfo=UTC)
    assert rows[2].name == ""  # an invalid row keeps only its number


def test_the_job_writes_the_checked_rows_without_checking_any_again(open_letter, organizer, monkeypatch):
    imp = upload(open_letter, organizer)

    def no_check(**kwargs):
        raise AssertionError("the job checked a row again")

    monkeypatch.setattr(jobs, "row_check", no_check)
    imp = start_and_run(imp, organizer)
    assert (imp.status, imp.rows_done, imp.rows_created, imp.rows_skipped) == ("done", 5, 3, 2)
    assert sorted(Signature.objects.filter(letter=open_letter).values_list("email_key", flat=True)) == [
        "ada@example.org",
        "alan@example.org",
        "grace@example.org",
    ]
    assert (bytes(imp.checked), bytes(imp.content)) == (b"", b"")  # both emptied when it ends


def test_an_import_without_checked_rows_checks_the_file_again_to_the_same_result(open_letter, organizer):
    imp = upload(open_letter, organizer)
    SignatureImport.objects.filter(pk=imp.pk).update(checked=b"")  # as one stored before this change
    imp = start_and_run(imp, organizer)
    assert (imp.status, imp.rows_done, imp.rows_created, imp.rows_skipped) == ("done", 5, 3, 2)
    assert Signature.objects.filter(letter=open_letter, verification_level="vouched").count() == 3


def test_starting_counts_again_who_has_signed_since_the_upload(open_letter, organizer):
    imp = upload(open_letter, organizer)
    assert imp.summary == {"new": 3, "already_signed": 0, "duplicate_in_file": 1, "invalid": 1, "total": 5}
    signed(open_letter, name="Grace Hopper", email="grace@example.org")
    imp = start_and_run(imp, organizer)
    assert imp.summary == {"new": 2, "already_signed": 1, "duplicate_in_file": 1, "invalid": 1, "total": 5}
    assert imp.rows_created == 2


def test_a_mapping_change_rewrites_the_checked_rows(open_letter, organizer):
    imp = upload(open_letter, organizer)
    import_mapping_set(
        signature_import=imp, mapping={"name": 0, "email": 1, "title": 3, "organization": 2}, actor=organizer
    )
    imp.refresh_from_db()
    first = checked_parse(checked_lines(imp.checked))[0]
    assert (first.title, first.organization, first.signed_at) == ("Nvidia", "Analyst", None)
    start_and_run(imp, organizer)
    ada = Signature.objects.get(letter=open_letter, email_key="ada@example.org")
    assert (ada.title, ada.organization_name) == ("Nvidia", "Analyst")


def test_a_vouched_row_whose_address_is_known_signs_as_its_person_after_merges(open_letter, organizer):
    survivor = PersonFactory(display_name="Ada Lovelace")
    merged = PersonFactory(display_name="A. Lovelace", merged_into=survivor)
    PersonEmailFactory(person=merged, email="ada@example.org", email_key="ada@example.org")
    start_and_run(upload(open_letter, organizer), organizer)
    assert Signature.objects.get(letter=open_letter, email_key="ada@example.org").person_id == survivor.pk
    grace = Signature.objects.get(letter=open_letter, email_key="grace@example.org").person
    assert (grace.display_name, grace.name_key, grace.emails.get().email_key) == (
        "Grace Hopper",
        person_name_fields("Grace Hopper")["name_key"],
        "grace@example.org",
    )
    assert grace.affiliations.get().organization_name == "Navy"


def test_printable_ascii_holds_no_character_the_signing_rules_refuse():
    """letters.typed_text skips its character-by-character check for printable ASCII text: none of those characters
    is a control, format, bidi, private-use or unassigned one."""
    printable = [chr(code) for code in range(128) if chr(code).isprintable()]
    assert len(printable) == 95
    refused = [c for c in printable if c in _BIDI or unicodedata.category(c) in ("Cc", "Cf", "Cs", "Co", "Cn")]
    assert refused == []
    for text in ("Ada\x07Lovelace", "Ada\x7fLovelace", "Ada\u200bLovelace", "Ada\u202eLovelace"):
        with pytest.raises(ValidationError):
            clean_line(text)
    assert clean_comment("Line one\nline two") == "Line one\nline two"
    with pytest.raises(ValidationError):
        clean_comment("Line one\x0bline two")


def test_ascii_letters_are_all_one_script():
    """registry.normalize.is_mixed_script answers False for ASCII text without looking each letter up."""
    assert categories.unique_aliases(string.ascii_letters) == {"LATIN"}
    assert not is_mixed_script("Katie Moussouris-3")
    assert is_mixed_script("Кatie Moussouris")  # Cyrillic К


def test_rows_insert_writes_what_bulk_create_writes(db):
    at = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
    people = rows_insert(
        Person, [Person(**person_name_fields(name)) for name in ("Ada Lovelace", "Grace Hopper")], with_ids=True
    )
    assert all(person.pk for person in people)
    audits = rows_insert(
        AuditEvent,
        [audit_event_build(action="test.row", target=person, data={"n": 1, "é": "ü"}, at=at) for person in people],
    )
    stored = AuditEvent.objects.filter(action="test.row").order_by("target_id")
    assert [(a.target_type, a.target_id, a.data, a.at) for a in stored] == [
        ("registry.person", str(people[0].pk), {"n": 1, "é": "ü"}, at),
        ("registry.person", str(people[1].pk), {"n": 1, "é": "ü"}, at),
    ]
    assert [a._state.adding for a in audits] == [False, False]
    assert rows_insert(Person, []) == []


def test_values_insert_fills_the_defaults_bulk_create_would(db):
    person = rows_insert(Person, [Person(**person_name_fields("Ada Lovelace"))], with_ids=True)[0]
    assert values_insert(Affiliation, [{"person_id": person.pk, "organization_id": None, "title": "Analyst"}]) == 1
    affiliation = Affiliation.objects.get(person=person)
    assert (affiliation.title, affiliation.organization_name, affiliation.is_current, affiliation.source) == (
        "Analyst",
        "",
        True,
        "signature",
    )
    assert affiliation.created_at is not None
    assert values_insert(Affiliation, []) == 0


@pytest.mark.postgres
def test_a_vouched_import_writes_each_export_line_and_log_entry_once(open_letter, organizer):
    signed(open_letter, name="Katie Moussouris", email="katie@example.org")  # one row by the sign form, beforehand
    queued_before = LogQueue.objects.count()
    start_and_run(upload(open_letter, organizer), organizer, batch_rows=10)
    public = Signature.objects.filter(letter=open_letter, status="confirmed", hold_reason="")
    assert public.count() == 4
    assert set(ExportLine.objects.filter(letter=open_letter).values_list("signature_id", flat=True)) == set(
        public.values_list("pk", flat=True)
    )
    assert export_lines_differences() == 0
    metadata = {"letter": "x", "exported_at": datetime(2026, 12, 1, tzinfo=UTC)}
    via_lines = b"".join(export_csv_copy(letter_id=open_letter.pk, metadata=metadata))
    via_python = "".join(export_csv(rows=letter_signatures_public(letter=open_letter), metadata=metadata)).encode()
    assert via_lines == via_python
    visible = SignatureEvent.objects.filter(letter=open_letter, kind="confirmed", signature__source="import")
    assert sorted(LogQueue.objects.order_by("pk")[queued_before:].values_list("event_id", flat=True)) == sorted(
        visible.values_list("pk", flat=True)
    )


def fake_database(monkeypatch, commits, clock):
    """`commits`: the counter's successive readings; `clock`: the monotonic clock's successive readings."""
    readings, ticks = iter(commits), iter(clock)
    monkeypatch.setattr(pacing, "database_commits", lambda: next(readings))
    monkeypatch.setattr(pacing, "_clock", lambda: next(ticks))
    slept: list[float] = []
    monkeypatch.setattr(pacing, "_sleep", slept.append)
    return slept


def test_the_job_sleeps_only_while_others_commit(monkeypatch, settings):
    settings.IMPORT_YIELD_FACTOR = 3.0
    settings.IMPORT_YIELD_MAX_SECONDS = 5.0
    settings.IMPORT_YIELD_BUSY_COMMITS_PER_SECOND = 10.0
    slept = fake_database(monkeypatch, commits=[100, 103, 200, 210, 211, 229], clock=[0, 0.5, 1.0, 2.5, 4.5, 6.5])
    pacer = pacing.Pacer()  # 100 at 0 s
    assert pacer.after_batch(0.5) == 0.0  # 103 at 0.5 s: its own commits only
    assert pacer.after_batch(0.5) == 1.5  # 200 at 1 s: signers (95 in 0.5 s); it sleeps, then reads 210 at 2.5 s
    assert pacer.after_batch(2.0) == 0.0  # 211 at 4.5 s: quiet again
    assert pacer.after_batch(2.0) == 0.0  # 229 at 6.5 s: 16 in 2 s, as beat's tasks commit: not busy
    assert slept == [1.5]


def test_the_job_never_sleeps_longer_than_the_cap(monkeypatch, settings):
    settings.IMPORT_YIELD_FACTOR = 3.0
    settings.IMPORT_YIELD_MAX_SECONDS = 2.0
    fake_database(monkeypatch, commits=[0, 500, 500], clock=[0, 10, 12])
    assert pacing.Pacer().after_batch(10.0) == 2.0


def test_without_a_commit_counter_the_job_never_waits(monkeypatch):
    monkeypatch.setattr(pacing, "database_commits", lambda: None)
    assert pacing.Pacer().after_batch(1.0) == 0.0
