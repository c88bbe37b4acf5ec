"""What each imported row pays for in indexes (issue 15, P7): a person's without LIKE twins, the self-reference
indexed only where set, an import row's without a second index on its import, and the same uniqueness as before on
every database."""

import pytest
from django.db import IntegrityError, connection, transaction

from registry.models import Person, PersonEmail
from tests.factories import PersonEmailFactory, PersonFactory

pytestmark = pytest.mark.django_db


def indexes(table: str) -> dict[str, str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s", [table])
        return dict(cursor.fetchall())


@pytest.mark.postgres
def test_a_person_row_is_indexed_without_like_twins():
    person = indexes("registry_person")
    assert set(person) == {
        "registry_person_pkey",
        "person_public_id_unique",
        "person_sort_name_idx",
        "person_name_key_idx",
        "person_name_skeleton_idx",
        "person_merged_into_idx",
    }
    assert "UNIQUE" in person["person_public_id_unique"]
    assert "WHERE (merged_into_id IS NOT NULL)" in person["person_merged_into_idx"]
    email = indexes("registry_personemail")
    assert set(email) == {
        "registry_personemail_pkey",
        "person_email_key_unique",
        "registry_personemail_person_id_1fb34510",
    }
    assert "UNIQUE" in email["person_email_key_unique"]
    assert not any("varchar_pattern_ops" in d for d in [*person.values(), *email.values()])


@pytest.mark.postgres
def test_an_import_row_is_indexed_by_its_unique_import_and_number_alone():
    assert set(indexes("importing_signatureimportrow")) == {
        "importing_signatureimportrow_pkey",
        "import_row_once",
        "importing_signatureimportrow_signature_id_c7fc3f19",
    }


@pytest.mark.postgres
def test_a_merged_persons_lookup_reads_the_partial_index():
    survivor = PersonFactory()
    PersonFactory(merged_into=survivor)
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN SELECT id FROM registry_person WHERE merged_into_id = %s", [survivor.pk])
        plan = " ".join(row[0] for row in cursor.fetchall())
    assert "person_merged_into_idx" in plan


def test_public_ids_and_email_keys_stay_unique():
    person = PersonFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Person.objects.create(display_name="Other", name_key="other", public_id=person.public_id)
    address = PersonEmailFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        PersonEmail.objects.create(person=person, email=address.email, email_key=address.email_key)


def test_a_name_is_still_found_inside_name_keys():
    PersonFactory(display_name="Ada Lovelace", name_key="ada lovelace")
    assert Person.objects.filter(name_key__contains="lovelace").count() == 1
