import pytest

from bench.febrl_data import febrl_records
from registry.duplicate_matching import find_duplicates
from registry.duplicate_scans import dedup_scan_chunk, dedup_scan_start, person_duplicates_check, person_records
from registry.models import DedupScan, DuplicateCandidate, OrganizationAlias, OrganizationDomain, Person
from registry.services import organization_link, person_for_confirmed_email
from tests.factories import PersonEmailFactory, PersonFactory, StaffFactory

pytestmark = pytest.mark.django_db


def people(*names):
    return [PersonFactory(display_name=name) for name in names]


def pairs():
    return set(DuplicateCandidate.objects.values_list("person_a__display_name", "person_b__display_name"))


def test_confirming_a_signature_checks_that_person_for_duplicates(sign, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        first = sign("Katherine Moussouris", "katherine@lutasecurity.com", organization="Luta Security")
    assert DuplicateCandidate.objects.count() == 0
    with django_capture_on_commit_callbacks(execute=True):
        second = sign("Katie Moussouris", "katie.m@gmail.com", organization="Luta Security Inc.")
    candidate = DuplicateCandidate.objects.get()
    assert (candidate.person_a, candidate.person_b) == (first.person, second.person)
    assert candidate.person_a_id < candidate.person_b_id
    assert candidate.status == DuplicateCandidate.Status.OPEN
    assert candidate.reasons == [
        "given name katherine ≈ katie (nickname) (+5.6)",
        "surname moussouris identical (+7.0)",
        "same organization Luta Security (+6.2)",
        "total +18.7 (threshold +11.5)",
    ]


def test_incremental_check_ignores_merged_and_missing_people():
    a, b = people("Robert Tables", "Bob Tables")
    b.merged_into = a
    b.save()
    assert person_duplicates_check(person_id=b.pk) == 0
    assert person_duplicates_check(person_id=10**9) == 0
    assert person_duplicates_check(person_id=a.pk) == 0
    assert DuplicateCandidate.objects.count() == 0


def test_incremental_check_records_a_pair_once():
    a, b = people("Robert Tables", "Bob Tables")
    assert person_duplicates_check(person_id=b.pk) == 1
    assert person_duplicates_check(person_id=a.pk) == 0
    assert pairs() == {("Robert Tables", "Bob Tables")}


def test_a_dismissed_pair_is_not_reopened_by_a_later_scan():
    _a, b = people("Robert Tables", "Bob Tables")
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
    people("Robert Tables", "Bob Tables", "Katie Moussouris", "K. Moussouris", "Ada Lovelace", "Grace Hopper")
    staff = StaffFactory()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        scan = dedup_scan_start(actor=staff, chunks=4)
    assert len(callbacks) == 4
    scan.refresh_from_db()
    assert (scan.status, scan.chunks_done, scan.chunks_total, scan.candidates_found) == ("done", 4, 4, 2)
    assert scan.started_by == staff and scan.finished_at is not None
    assert pairs() == {("Robert Tables", "Bob Tables"), ("Katie Moussouris", "K. Moussouris")}


def test_chunks_can_run_in_any_order_on_any_worker_and_twice():
    people("Robert Tables", "Bob Tables", "Katie Moussouris", "K. Moussouris")
    scan = DedupScan.objects.create(chunks_total=3)
    found = [dedup_scan_chunk(scan_id=scan.pk, chunk=chunk, chunks=3) for chunk in (2, 0, 1)]
    assert sum(found) == 2
    scan.refresh_from_db()
    assert (scan.status, scan.chunks_done) == ("done", 3)
    assert dedup_scan_chunk(scan_id=scan.pk, chunk=0, chunks=3) == 0  # a redelivered chunk adds nothing
    assert DuplicateCandidate.objects.count() == 2


def test_scan_progress_is_visible_while_chunks_remain():
    people("Robert Tables", "Bob Tables")
    scan = DedupScan.objects.create(chunks_total=2)
    dedup_scan_chunk(scan_id=scan.pk, chunk=0, chunks=2)
    scan.refresh_from_db()
    assert (scan.status, scan.chunks_done) == ("running", 1)


def test_merged_people_are_left_out_of_scans():
    a, b = people("Robert Tables", "Bob Tables")
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
    whole = {(m.a, m.b) for m in find_duplicates(person_records())}
    assert len(whole) > 8
    checked = [pk for pk in people if any(pk in pair for pair in whole)][:10] + list(people)[:3]
    for pk in checked:
        DuplicateCandidate.objects.all().delete()
        person_duplicates_check(person_id=pk)
        assert set(DuplicateCandidate.objects.values_list("person_a_id", "person_b_id")) == {
            pair for pair in whole if pk in pair
        }
