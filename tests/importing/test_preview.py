from datetime import UTC, datetime

import pytest

from importing.files import table_read
from importing.mapping import mapping_guess
from importing.preview import RowStatus, preview_build
from registry.models import Person
from tests.builders import signed
from tests.factories import OrganizationAliasFactory, OrganizationFactory, PersonFactory

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
CSV = """Name,Email,Title,Company,Date signed,Note
Ada Lovelace,ada@example.org,Analyst,Nvidia,2026-11-30,met at DEF CON
Grace Hopper,grace@example.org,Admiral,Team Green,2026-11-30 14:05,
Alan Turing,alan@example.org,,Bletchley Park Trust,,
Ada L.,ADA@example.org,,,,
Katie Moussouris,katie@example.org,CEO,Luta Security,,
,nobody@example.org,,,,
Bad Date,bad@example.org,,,next tuesday,
Formula,formula@example.org,=HYPERLINK("x"),,,
Future,future@example.org,,,2027-01-01,
Note Dash,dash@example.org,,,,- a note that starts with a dash
"""


@pytest.fixture
def preview(open_letter, nvidia):
    signed(open_letter, name="Katie Moussouris", email="katie@example.org")
    PersonFactory(display_name="Alan Turing", name_key="alan turing")
    OrganizationAliasFactory(organization=nvidia, name="Team Green", name_key="team green")
    table = table_read(data=CSV.encode(), filename="founders.csv")
    return preview_build(letter=open_letter, table=table, mapping=mapping_guess(table.headers), now=NOW)


def by_number(preview):
    return {row.number: row for row in preview.rows}


def test_summary_counts_each_kind_of_row(preview):
    assert preview.summary == {
        "new": 3,
        "already_signed": 1,
        "duplicate_in_file": 1,
        "invalid": 5,
        "total": 10,
    }


def test_organizations_match_by_name_alias_or_become_candidates(preview):
    rows = by_number(preview)
    assert (rows[2].organization_match, rows[2].organization_slug) == ("name", "nvidia")
    assert (rows[3].organization_match, rows[3].organization_slug) == ("alias", "nvidia")
    assert (rows[4].organization_match, rows[4].organization_slug) == ("new", "")


def test_rows_explain_duplicates_and_people(preview):
    alan = Person.objects.get(display_name="Alan Turing")
    rows = by_number(preview)
    assert rows[5].status == RowStatus.DUPLICATE_IN_FILE
    assert rows[5].explanation == "The same address as row 2."
    assert rows[6].status == RowStatus.ALREADY_SIGNED
    assert rows[6].explanation == "This address has already signed the letter."
    [hit] = rows[4].possible_people
    assert (hit["name"], hit["person"]) == ("Alan Turing", alan.public_id)
    assert hit["reason"].startswith("given name alan identical (+")
    assert "surname turing identical" in hit["reason"]
    assert rows[4].explanation == f"Possibly Alan Turing ({hit['reason']})"
    assert rows[2].possible_people == []  # Ada Lovelace is nobody known


def test_invalid_rows_carry_field_errors_by_row_number(preview):
    rows = by_number(preview)
    assert rows[7].errors == {"name": ["This field is required."]}
    assert rows[8].errors == {"signed_at": ["Write the date as YYYY-MM-DD (optionally with a time, HH:MM)."]}
    assert rows[9].errors["title"] == [
        "Must not start with =, +, -, @, a tab or a carriage return (spreadsheet formulas)."
    ]
    assert rows[10].errors == {"signed_at": ["The signing date is in the future."]}
    assert rows[11].errors == {
        "note": ["Must not start with =, +, -, @, a tab or a carriage return (spreadsheet formulas)."]
    }
    assert rows[2].signed_at == datetime(2026, 11, 30, tzinfo=UTC)
    assert rows[3].signed_at == datetime(2026, 11, 30, 14, 5, tzinfo=UTC)


def test_control_and_bidi_characters_are_refused_per_row(open_letter):
    data = (
        "name,email,organization\nEvil\u202eName,e@example.org,\nNul\x00l,n@example.org,\n"
        "Ok,ok@example.org,Acme\u200b\n"
    )
    table = table_read(data=data.encode(), filename="x.csv")
    rows = preview_build(letter=open_letter, table=table, mapping=mapping_guess(table.headers), now=NOW).rows
    assert [row.errors for row in rows] == [
        {"name": ["Bidirectional control characters are not allowed."]},
        {"name": ["Control characters are not allowed."]},
        {"organization": ["Invisible formatting characters (such as zero-width spaces) are not allowed."]},
    ]


def test_the_preview_stores_nothing(open_letter, django_assert_max_num_queries):
    from letters.models import Signature
    from registry.models import AuditEvent, Organization

    before = (Signature.objects.count(), Organization.objects.count(), AuditEvent.objects.count())
    OrganizationFactory(name="Acme", slug="acme", name_key="acme")
    table = table_read(data=CSV.encode(), filename="founders.csv")
    with django_assert_max_num_queries(7):  # one more than before: has the letter any invitation
        preview_build(letter=open_letter, table=table, mapping=mapping_guess(table.headers), now=NOW)
    assert (Signature.objects.count(), Organization.objects.count() - 1, AuditEvent.objects.count()) == before


@pytest.mark.parametrize("name", ["founding-signers.csv", "founding-signers.xlsx"])
def test_the_demo_spreadsheet_previews_76_signers_two_rejected_rows_and_one_duplicate(name, db):
    from pathlib import Path

    from tests.factories import LetterFactory

    path = Path(__file__).resolve().parents[2] / "docs" / "demo" / name
    table = table_read(data=path.read_bytes(), filename=name)
    preview = preview_build(
        letter=LetterFactory(status="scheduled"), table=table, mapping=mapping_guess(table.headers), now=NOW
    )
    assert preview.summary == {"new": 76, "already_signed": 0, "duplicate_in_file": 1, "invalid": 2, "total": 79}
    assert [row.explanation for row in preview.rows if row.status != RowStatus.NEW] == [
        "name: This field is required.",
        "title: Must not start with =, +, -, @, a tab or a carriage return (spreadsheet formulas).",
        "The same address as row 7.",
    ]


def test_people_with_typos_or_nicknames_are_found_with_the_queues_evidence(open_letter):
    signed(
        open_letter, name="Katherine Moussouris", email="katie@lutasecurity.example", organization_name="Luta Security"
    )
    data = b"name,email,organization\nKatie Mousouris,k@example.org,Luta Security\nGrace Hopper,g@example.org,Navy\n"
    table = table_read(data=data, filename="x.csv")
    rows = preview_build(letter=open_letter, table=table, mapping=mapping_guess(table.headers), now=NOW).rows
    assert [p["name"] for p in rows[0].possible_people] == ["Katherine Moussouris"]
    assert "total" in rows[0].possible_people[0]["reason"]
    assert rows[1].possible_people == []


def test_large_files_skip_the_people_check_in_the_preview(open_letter, settings):
    from tests.factories import PersonFactory

    settings.IMPORT_PREVIEW_PEOPLE_ROWS = 1
    PersonFactory(display_name="Alan Turing", name_key="alan turing")
    table = table_read(data=b"name,email\nAlan Turing,a@example.org\nGrace Hopper,g@example.org\n", filename="x.csv")
    preview = preview_build(letter=open_letter, table=table, mapping=mapping_guess(table.headers), now=NOW)
    assert preview.people_checked is False
    assert [row.possible_people for row in preview.rows] == [[], []]


def test_the_preview_says_which_addresses_an_invite_import_would_skip(db):
    from importing.invitations import invitation_decline, signer_invitation_create
    from importing.preview import preview_build
    from tests.factories import LetterFactory, UserFactory

    letter = LetterFactory(status="open")
    organizer = UserFactory()
    declined = signer_invitation_create(letter=letter, name="Dee Clined", email="dee@example.org", actor=organizer)
    invitation_decline(token=declined.token)
    signer_invitation_create(letter=letter, name="Open Ann", email="ann@example.org", actor=organizer)
    table = table_read(
        data=b"name,email\nDee Clined,DEE@example.org\nOpen Ann,ann@example.org\nNew Nell,nell@example.org\n",
        filename="invitees.csv",
    )
    rows = preview_build(letter=letter, table=table, mapping={"name": 0, "email": 1}).rows
    assert [(row.status, row.invitation) for row in rows] == [("new", "declined"), ("new", "open"), ("new", "")]
    assert rows[0].explanation == (
        "Declined an invitation to this letter: an invite import will not invite this address again"
    )
