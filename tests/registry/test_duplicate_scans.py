import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from bench.febrl_data import febrl_records
from registry.dedup.weights import TRAINED
from registry.duplicate_matching import find_duplicates
from registry.duplicate_scans import (
    dedup_scan_chunk,
    dedup_scan_start,
    duplicates_check_requested,
    duplicates_in_use,
    index_keys,
    person_duplicates_check,
    person_keys_add,
    person_records,
)
from registry.erasure import person_erase
from registry.merge import person_merge, person_unmerge
from registry.models import (
    DedupScan,
    DuplicateCandidate,
    OrganizationAlias,
    OrganizationDomain,
    Person,
    PersonBlockKey,
)
from registry.services import organization_link, person_for_confirmed_email, person_rename
from tests.factories import PersonEmailFactory, PersonFactory, StaffFactory

pytestmark = pytest.mark.django_db


def people(*names):
    return [PersonFactory(display_name=name) for name in names]


def pairs():
    return set(DuplicateCandidate.objects.values_list("person_a__display_name", "person_b__display_name"))


def test_confirming_a_signature_has_that_person_checked_for_duplicates_by_the_next_run(sign):
    first = sign("Katherine Moussouris", "katherine@lutasecurity.com", organization="Luta Security")
    assert duplicates_check_requested() == 1
    assert DuplicateCandidate.objects.count() == 0
    second = sign("Katie Moussouris", "katie.m@gmail.com", organization="Luta Security Inc.")
    assert DuplicateCandidate.objects.count() == 0  # not at confirmation: beat's next run
    assert duplicates_check_requested() == 1
    candidate = DuplicateCandidate.objects.get()
    assert (candidate.person_a, candidate.person_b) == (first.person, second.person)
    assert candidate.person_a_id < candidate.person_b_id
    assert candidate.status == DuplicateCandidate.Status.OPEN
    assert candidate.reasons == [
        "given name katherine ≈ katie (nickname) (+5.6)",
        "surname moussouris identical (+7.0, of which -0.7 for how common the surname is)",
        "same organization Luta Security (+6.2, of which -0.3 for how common the organization is)",
        "prior -10.9: 0.26 duplicates a person among 1,000 people (the fewest it counts)",
        "total +18.7 (threshold +10.4: posterior odds of -0.5 less the prior)",
    ]


def test_incremental_check_ignores_merged_and_missing_people():
    a, b = people("Robert Tables", "Robert Tabels")
    b.merged_into = a
    b.save()
    assert person_duplicates_check(person_id=b.pk) == 0
    assert person_duplicates_check(person_id=10**9) == 0
    assert person_duplicates_check(person_id=a.pk) == 0
    assert DuplicateCandidate.objects.count() == 0


def test_incremental_check_records_a_pair_once():
    a, b = people("Robert Tables", "Robert Tabels")
    assert person_duplicates_check(person_id=a.pk) == 0  # at a's confirmation, b is not in the index yet
    assert person_duplicates_check(person_id=b.pk) == 1
    assert person_duplicates_check(person_id=a.pk) == 0
    assert pairs() == {("Robert Tables", "Robert Tabels")}


def test_a_dismissed_pair_is_not_reopened_by_a_later_scan():
    a, b = people("Robert Tables", "Robert Tabels")
    person_duplicates_check(person_id=a.pk)
    person_duplicates_check(person_id=b.pk)
    DuplicateCandidate.objects.update(status=DuplicateCandidate.Status.DISMISSED)
    person_duplicates_check(person_id=b.pk)
    assert DuplicateCandidate.objects.get().status == DuplicateCandidate.Status.DISMISSED


def test_person_records_carry_emails_organizations_aliases_reviews_and_verified_domains(nvidia):
    person = PersonFactory(display_name="Ada Lovelace")
    PersonEmailFactory(person=person, email="ada@nvidia.com", email_key="ada@nvidia.com")
    person.affiliations.create(organization=nvidia, organization_name="Nvidia")
    OrganizationAlias.objects.create(organization=nvidia, name="NVDA", name_key="nvda")
    OrganizationDomain.objects.update_or_create(
        domain="nvidia.com", defaults={"organization": nvidia, "verified": True}
    )
    [record] = person_records([person])
    assert (record.email_keys, record.organizations, record.domains) == (
        frozenset({"ada@nvidia.com"}),
        {nvidia.pk: "Nvidia"},
        frozenset({"nvidia.com"}),
    )
    assert (record.aliases, record.reviewed, record.verified_domains) == (
        {nvidia.pk: ("NVDA", "NVIDIA Corporation")},
        frozenset({nvidia.pk}),
        frozenset({"nvidia.com"}),
    )


def test_whole_scan_runs_in_chunks_and_reports_progress(django_capture_on_commit_callbacks):
    people("Robert Tables", "Robert Tabels", "Katie Moussouris", "K. Moussouris", "Ada Lovelace", "Grace Hopper")
    staff = StaffFactory()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        scan = dedup_scan_start(actor=staff, chunks=4)
    assert len(callbacks) == 4
    scan.refresh_from_db()
    assert (scan.status, scan.chunks_done, scan.chunks_total, scan.candidates_found) == ("done", 4, 4, 2)
    assert scan.started_by == staff and scan.finished_at is not None
    assert pairs() == {("Robert Tables", "Robert Tabels"), ("Katie Moussouris", "K. Moussouris")}


def test_chunks_can_run_in_any_order_on_any_worker_and_twice():
    people("Robert Tables", "Robert Tabels", "Katie Moussouris", "K. Moussouris")
    scan = DedupScan.objects.create(chunks_total=3)
    found = [dedup_scan_chunk(scan_id=scan.pk, chunk=chunk, chunks=3) for chunk in (2, 0, 1)]
    assert sum(found) == 2
    scan.refresh_from_db()
    assert (scan.status, scan.chunks_done) == ("done", 3)
    assert dedup_scan_chunk(scan_id=scan.pk, chunk=0, chunks=3) == 0  # a redelivered chunk adds nothing
    assert DuplicateCandidate.objects.count() == 2


def test_a_first_chunk_that_loses_the_race_to_store_the_prior_scores_with_the_stored_one(monkeypatch):
    from registry import duplicate_scans

    people("Robert Tables", "Robert Tabels")
    scan = DedupScan.objects.create(chunks_total=1)
    real, used = duplicate_scans.scan_duplicates, []

    def racing(records, *, chunk, duplicates):
        used.append(duplicates)
        if duplicates is None:  # meanwhile another first chunk stores an estimate made a moment earlier
            DedupScan.objects.filter(pk=scan.pk).update(duplicates_per_person=0.5)
        return real(records, chunk=chunk, duplicates=duplicates)

    monkeypatch.setattr(duplicate_scans, "scan_duplicates", racing)
    dedup_scan_chunk(scan_id=scan.pk, chunk=0, chunks=1)
    scan.refresh_from_db()
    assert (used, scan.duplicates_per_person) == ([None, 0.5], 0.5)


def test_scan_progress_is_visible_while_chunks_remain():
    people("Robert Tables", "Robert Tabels")
    scan = DedupScan.objects.create(chunks_total=2)
    dedup_scan_chunk(scan_id=scan.pk, chunk=0, chunks=2)
    scan.refresh_from_db()
    assert (scan.status, scan.chunks_done) == ("running", 1)


def test_merged_people_are_left_out_of_scans():
    a, b = people("Robert Tables", "Robert Tabels")
    Person.objects.filter(pk=b.pk).update(merged_into=a)
    scan = DedupScan.objects.create(chunks_total=1)
    assert dedup_scan_chunk(scan_id=scan.pk, chunk=0, chunks=1) == 0


def test_the_check_at_confirmation_finds_exactly_what_a_whole_scan_finds_for_that_person_on_febrl():
    sample = febrl_records("febrl3")[:250]
    people = {}
    for record in sample:
        organization = organization_link(name=record.suburb) if record.suburb else None
        person = person_for_confirmed_email(
            email=f"febrl{record.id}@gmail.com",
            email_key=f"febrl{record.id}@gmail.com",
            name=record.name or "?",
            organization=organization,
            organization_name=record.suburb,
        )
        people[person.pk] = record
        person_duplicates_check(person_id=person.pk)  # as at each confirmation: the person enters the key index
    # Before any whole scan the checks use the default prior: together they find what a scan with it finds.
    default = {(m.a, m.b) for m in find_duplicates(person_records(), duplicates=TRAINED.DUPLICATES_PER_PERSON)}
    assert set(DuplicateCandidate.objects.values_list("person_a_id", "person_b_id")) == default
    # A whole scan estimates the prior and stores it; later checks use it.
    DuplicateCandidate.objects.all().delete()
    scan = DedupScan.objects.create(chunks_total=3)
    for chunk in range(3):
        dedup_scan_chunk(scan_id=scan.pk, chunk=chunk, chunks=3)
    scan.refresh_from_db()
    assert scan.duplicates_per_person == duplicates_in_use() != TRAINED.DUPLICATES_PER_PERSON
    whole = set(DuplicateCandidate.objects.values_list("person_a_id", "person_b_id"))
    assert whole == {(m.a, m.b) for m in find_duplicates(person_records())}  # the scan estimates as in memory
    assert len(whole) > 8
    checked = [pk for pk in people if any(pk in pair for pair in whole)][:10] + list(people)[:3]
    for pk in checked:
        DuplicateCandidate.objects.all().delete()
        person_duplicates_check(person_id=pk)
        assert set(DuplicateCandidate.objects.values_list("person_a_id", "person_b_id")) == {
            pair for pair in whole if pk in pair
        }


def index_of(person):
    return set(PersonBlockKey.objects.filter(person=person).values_list("key", flat=True))


def test_the_key_index_follows_renames_merges_and_erasure():
    a, b = people("Robert Tables", "Robert Tabels")
    PersonEmailFactory(person=b, email="bob@tables.example", email_key="bob@tables.example")
    for person in (a, b):
        person_duplicates_check(person_id=person.pk)
    assert {"surname:tables", "tf:given:robert", "joined:roberttables"} <= index_of(a)
    assert "email:bob@tables.example" in index_of(b)
    person_rename(person=a, name="Roberta Tablas")
    assert "surname:tablas" in index_of(a) and "surname:tables" not in index_of(a)
    person_merge(survivor=a, duplicate=b)
    assert index_of(b) == set()
    assert "email:bob@tables.example" in index_of(a)  # the address moved with the merge
    person_unmerge(duplicate=b)
    assert "email:bob@tables.example" in index_of(b) and "email:bob@tables.example" not in index_of(a)
    person_erase(person=b, email_key="bob@tables.example", keep_person=False, secrets=[])
    assert not any("bob" in key or "tables" in key for key in index_of(b))


def test_a_whole_scan_reconciles_the_key_index_of_people_who_never_had_a_check():
    a, b, c = people("Robert Tables", "Robert Tabels", "Ann Smith")
    PersonBlockKey.objects.create(person=c, key="surname:stale")
    Person.objects.filter(pk=c.pk).update(merged_into=a)
    scan = DedupScan.objects.create(chunks_total=2)
    for chunk in range(2):
        dedup_scan_chunk(scan_id=scan.pk, chunk=chunk, chunks=2)
    records = {record.id: record for record in person_records()}
    assert set(records) == {a.pk, b.pk}
    assert index_of(a) == index_keys(records[a.pk]) and index_of(b) == index_keys(records[b.pk])
    assert index_of(c) == set()


def test_the_check_reads_only_the_blocks_of_the_person_not_the_registry():
    a, b = people("Robert Tables", "Robert Tabels")
    others = people(*(f"Person{n} Other{n}" for n in range(60)))
    for person in (a, *others):
        person_duplicates_check(person_id=person.pk)
    with CaptureQueriesContext(connection) as queries:
        assert person_duplicates_check(person_id=b.pk) == 1
    person_loads = [q["sql"] for q in queries.captured_queries if 'FROM "registry_person"' in q["sql"]]
    assert person_loads and all("WHERE" in sql for sql in person_loads)
    assert len(queries.captured_queries) <= 25
    # The people loaded are b and those sharing a block with it: never the 60 others.
    loaded = [sql for sql in person_loads if "display_name" in sql]
    assert not any(str(others[-1].pk) in sql.split("IN")[-1] for sql in loaded if "IN" in sql)


def test_people_created_in_bulk_get_their_index_keys_at_once_and_are_seen_by_the_next_check():
    a, b = people("Robert Tables", "Robert Tabels")
    PersonEmailFactory(person=b, email="bob@tables.example", email_key="bob@tables.example")
    assert index_of(a) == index_of(b) == set()  # as an import leaves them
    PersonBlockKey.objects.create(person=b, key="surname:stale")
    written = person_keys_add(person_ids=[a.pk, b.pk])
    records = {record.id: record for record in person_records()}
    assert index_of(a) == index_keys(records[a.pk]) and index_of(b) == index_keys(records[b.pk])
    assert written == len(index_keys(records[a.pk]))  # b already had rows: reconciled, not written again
    c = PersonFactory(display_name="Roberto Tables")
    assert person_duplicates_check(person_id=c.pk) >= 1
    assert ("Robert Tables", "Roberto Tables") in pairs()
