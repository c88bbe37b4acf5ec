"""The import's database work cut without changing what it writes (issue 15, P7, sixth pass): the export view renders
each time once (letters 0033) and gives 0007's lines byte for byte, ids come from the table's own sequence, and rows
written from values get the defaults bulk_create would give."""

import importlib
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection

from letters.models import LetterVersion, Signature, SignatureEvent, VerificationRecord
from registry.bulk import ids_reserve, values_insert
from registry.models import Organization, Person
from registry.services import person_name_fields
from tests.builders import signed
from tests.factories import OrganizationFactory

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
ODD = ["=SUM(A1)", "two\nlines", 'say "hi", ok', "-1", "@x", "tab\there", "naïve 名前", "plain"]


@pytest.mark.postgres
def test_the_export_view_gives_the_lines_of_0007s_view_for_every_kind_of_row(open_letter):
    migration = importlib.import_module("letters.migrations.0033_exportline_source_times_once")
    reviewed = OrganizationFactory(name='Adobe, "Systems"', slug="adobe", status="reviewed")
    candidate = OrganizationFactory(name="Zoom", slug="zoom", status="candidate")
    for n, text in enumerate(ODD):
        signature = signed(
            open_letter, name=f"Signer {n}", email=f"s{n}@example.org", confirm=True, at=T0,
            confirmed_at=T0 + timedelta(seconds=n, microseconds=(0, 250000, 1, 100000)[n % 4]),
        )  # fmt: skip
        changes = {"name": text, "title": text, "organization_name": text, "name_shown": n % 3 != 0}
        if n % 2:
            changes["organization"] = reviewed if n % 4 == 1 else candidate
        if n >= 4:  # a record of the signature's level (its method and time shown), or of another (email shown)
            level = "domain" if n != 7 else "manual"
            record = VerificationRecord.objects.create(
                signature=signature, level=level, method=level, verified_at=T0 + timedelta(microseconds=10 * n)
            )
            changes |= {"verification": record, "verification_level": "domain"}
        Signature.objects.filter(pk=signature.pk).update(**changes)
    LetterVersion.objects.filter(letter=open_letter).update(number=3, kind="editorial")
    old_view = migration.AS_0007.replace("VIEW letters_exportline_source", "VIEW p7_exportline_source_0007")
    with connection.cursor() as cursor:
        cursor.execute(old_view)
        cursor.execute(
            "SELECT count(*), count(*) FILTER (WHERE n.line IS DISTINCT FROM o.line) FROM letters_exportline_source n"
            " FULL JOIN p7_exportline_source_0007 o USING (signature_id)"
        )
        compared, different = cursor.fetchone()
        cursor.execute("SELECT count(*) FROM letters_exportline_source WHERE line LIKE '%.25Z%'")
        fractions = cursor.fetchone()[0]
        cursor.execute("DROP VIEW p7_exportline_source_0007")
    assert (compared, different) == (len(ODD), 0)
    assert fractions >= 1  # a trimmed fraction of a second was among the rows compared


@pytest.mark.postgres
def test_reserved_ids_come_from_the_tables_own_sequence(db):
    first = ids_reserve(Person, 3)
    again = ids_reserve(Person, 2)  # the sequence's name is looked up once, then reused
    assert first == sorted(first) and len(set(first + again)) == 5 and min(again) > max(first)
    person = Person.objects.create(**person_name_fields("Ada Lovelace"))
    assert person.pk > max(again)


def test_rows_from_values_get_what_bulk_create_gives_for_fields_left_out(open_letter):
    signature = signed(open_letter, name="Ada Lovelace", email="ada@example.org", confirm=True)
    values_insert(
        SignatureEvent,
        [
            {"signature_id": signature.pk, "letter_id": open_letter.pk, "kind": "created", "at": T0, "data": {}}
            for _ in range(2)
        ],
    )
    written = list(SignatureEvent.objects.filter(signature=signature, at=T0))
    reference = SignatureEvent(signature=signature, letter=open_letter, kind="created", at=T0)
    left_out = ["actor_id", "organization_before", "organization_after", "visible_before", "visible_after"]
    assert len(written) == 2
    for event in written:
        assert [getattr(event, name) for name in left_out] == [getattr(reference, name) for name in left_out]
    people = [{"id": pk, **person_name_fields("Grace Hopper")} for pk in (ids_reserve(Person, 2) if connection.vendor
              == "postgresql" else [])]  # fmt: skip
    if people:
        values_insert(Person, people)
        stored = Person.objects.filter(pk__in=[p["id"] for p in people])
        assert len({person.public_id for person in stored}) == 2  # a callable default: one value a row
        assert all(person.merged_into_id is None for person in stored)
    assert not Organization.objects.exists()
