"""What each signature pays for in indexes on PostgreSQL, and that the public search still uses its own."""

import pytest
from django.db import connection
from django.utils import timezone

from letters.selectors import letter_signatures_public, signatures_public_now
from tests.factories import LetterFactory, SignatureFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


def indexes(table: str) -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname FROM pg_indexes WHERE tablename = %s", [table])
        return {row[0] for row in cursor.fetchall()}


def test_a_signature_row_is_indexed_only_where_something_reads_it():
    assert indexes("letters_signature") == {
        "letters_signature_pkey",
        "signature_public_id_unique",
        "signature_one_live_per_letter_email",
        "signature_public_list_idx",
        "signature_org_idx",
        "signature_confirmed_idx",
        "letters_signature_version_id_bfbabcd3",
        "signature_person_idx",
        "signature_organization_idx",
        "signature_verification_idx",
        "signature_merged_into_idx",
        "signature_withheld_idx",
        "signature_name_public_trgm_idx",
        "signature_title_public_trgm_idx",
        "signature_organization_name_public_trgm_idx",
    }


def test_trigram_indexes_cover_exactly_the_rows_the_public_search_reads():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname, pg_get_expr(i.indpred, i.indrelid) FROM pg_index i "
            "JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relname LIKE 'signature_%%_trgm_idx' ORDER BY 1"
        )
        predicates = cursor.fetchall()
    public = "(((status)::text = 'confirmed'::text) AND ((hold_reason)::text = ''::text))"
    assert predicates == [
        ("signature_name_public_trgm_idx", public),
        ("signature_organization_name_public_trgm_idx", public),
        ("signature_title_public_trgm_idx", public),
    ]
    letter = LetterFactory(status="open")
    public_filter = {(c.lhs.target.name, c.rhs) for c in signatures_public_now(letter=letter).query.where.children}
    assert public_filter == {("letter", letter.pk), ("status", "confirmed"), ("hold_reason", "")}


def test_the_public_search_finds_public_rows_only():
    letter = LetterFactory(status="open")
    now = timezone.now()
    SignatureFactory.create_batch(3, letter=letter, status="confirmed", confirmed_at=now)
    SignatureFactory(letter=letter, name="Grace Hopper", status="confirmed", confirmed_at=now)
    SignatureFactory(letter=letter, name="Pending Hopper")
    SignatureFactory(letter=letter, name="Held Hopper", status="confirmed", confirmed_at=now, hold_reason="admin")
    assert [s.name for s in letter_signatures_public(letter=letter, q="hopper")] == ["Grace Hopper"]


def test_indexes_on_columns_a_pending_signature_leaves_empty_skip_it():
    names = ("signature_person_idx", "signature_organization_idx", "signature_verification_idx",
             "signature_merged_into_idx", "sigevent_actor_idx", "audit_actor_idx")  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname, pg_get_expr(i.indpred, i.indrelid) FROM pg_index i "
            "JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relname = ANY(%s) ORDER BY 1",
            [list(names)],
        )
        assert cursor.fetchall() == [
            ("audit_actor_idx", "(actor_id IS NOT NULL)"),
            ("sigevent_actor_idx", "(actor_id IS NOT NULL)"),
            ("signature_merged_into_idx", "(merged_into_id IS NOT NULL)"),
            ("signature_organization_idx", "(organization_id IS NOT NULL)"),
            ("signature_person_idx", "(person_id IS NOT NULL)"),
            ("signature_verification_idx", "(verification_id IS NOT NULL)"),
        ]
    assert indexes("registry_auditevent") == {
        "registry_auditevent_pkey", "audit_target_idx", "audit_action_idx", "audit_actor_idx",
        "registry_auditevent_at_8f027be9",
    }  # fmt: skip


def test_withheld_groups_are_read_from_their_covering_index_alone():
    from django.test.utils import CaptureQueriesContext

    from letters.withheld import letter_withheld

    letter = LetterFactory(status="open")
    SignatureFactory.create_batch(3, letter=letter, status="confirmed", confirmed_at=timezone.now(), name_shown=False)
    with CaptureQueriesContext(connection) as queries:
        [group] = letter_withheld(letter=letter)
    assert group["count"] == 3
    [grouping] = [q["sql"] for q in queries.captured_queries if "GROUP BY" in q["sql"]]
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # a tiny table: make the planner show its index path
        cursor.execute(f"EXPLAIN {grouping}")
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "Index Only Scan using signature_withheld_idx" in plan
