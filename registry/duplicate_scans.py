"""Running duplicate detection over the registry: whole scans in shareable chunks, and one person at a time."""

import functools
import zlib
from collections import defaultdict
from collections.abc import Iterable

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from registry.audit import Actor, actor_user
from registry.duplicate_matching import Match, PersonRecord, blocking_keys, find_duplicates
from registry.models import Affiliation, DedupScan, DuplicateCandidate, Person, PersonEmail

CHUNKS = 8


def person_records(people: Iterable[Person] | None = None) -> list[PersonRecord]:
    """Dedup records for live (not merged) people, with their email keys and organizations, in three queries."""
    base = Person.objects.filter(merged_into=None)
    if people is not None:
        base = base.filter(pk__in=[p.pk for p in people])
    emails: dict[int, set[str]] = defaultdict(set)
    for person_id, key in PersonEmail.objects.filter(person__in=base).values_list("person_id", "email_key"):
        emails[person_id].add(key)
    orgs: dict[int, dict[int, str]] = defaultdict(dict)
    for person_id, org_id, org_name in Affiliation.objects.filter(
        person__in=base, organization__isnull=False
    ).values_list("person_id", "organization_id", "organization__name"):
        orgs[person_id][org_id] = org_name
    return [
        PersonRecord(id=pk, name=name, email_keys=frozenset(emails[pk]), organizations=orgs[pk])
        for pk, name in base.values_list("pk", "display_name")
    ]


def duplicates_record(matches: Iterable[Match]) -> int:
    """Store new candidate pairs; pairs already known (open, merged or dismissed) are left as they are."""
    rows = [
        DuplicateCandidate(person_a_id=m.a, person_b_id=m.b, score=m.score, reasons=list(m.reasons)) for m in matches
    ]
    before = DuplicateCandidate.objects.count()
    DuplicateCandidate.objects.bulk_create(rows, ignore_conflicts=True, batch_size=1000)
    return DuplicateCandidate.objects.count() - before


def chunk_of(block_key: str, chunks: int) -> int:
    return zlib.crc32(block_key.encode()) % chunks


def dedup_scan_chunk(*, scan_id: int, chunk: int, chunks: int) -> int:
    """Score the blocks that hash to `chunk`; any worker can take any chunk."""
    records = person_records()
    keys = {key for record in records for key in blocking_keys(record) if chunk_of(key, chunks) == chunk}
    found = duplicates_record(find_duplicates(records, only_block_keys=keys))
    DedupScan.objects.filter(pk=scan_id).update(
        chunks_done=F("chunks_done") + 1, candidates_found=F("candidates_found") + found
    )
    DedupScan.objects.filter(pk=scan_id, chunks_done__gte=F("chunks_total")).update(
        status=DedupScan.Status.DONE, finished_at=timezone.now()
    )
    return found


def person_duplicates_check(*, person_id: int) -> int:
    """Compare one (just confirmed) person with the people sharing a blocking key with them."""
    person = Person.objects.filter(pk=person_id, merged_into=None).first()
    if person is None:
        return 0
    records = person_records([person])
    if not records:
        return 0
    [record] = records
    words = [w for w in (record.surname, record.given) if len(w) > 1]
    nearby = (
        Person.objects.filter(merged_into=None)
        .exclude(pk=person.pk)
        .filter(
            Q(emails__email_key__in=record.email_keys)
            | Q(affiliations__organization_id__in=list(record.organizations))
            | Q(name_key__regex=r"(^| )(" + "|".join(words) + r")( |$)" if words else Q(pk=None))
        )
    )
    others = person_records(nearby.distinct()[:2000])
    matches = [m for m in find_duplicates([record, *others]) if person.pk in (m.a, m.b)]
    return duplicates_record(matches)


def dedup_scan_start(*, actor: Actor = None, chunks: int = CHUNKS) -> DedupScan:
    """Start a whole-registry scan: one task per chunk, enqueued after commit, progress on the DedupScan row."""
    from registry import tasks  # lazy: registry.tasks imports this module

    scan = DedupScan.objects.create(chunks_total=chunks, started_by=actor_user(actor))
    for chunk in range(chunks):
        transaction.on_commit(functools.partial(tasks.dedup_scan_chunk.delay, scan.pk, chunk, chunks))
    return scan
