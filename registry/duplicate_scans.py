"""Running duplicate detection over the registry: whole scans in shareable chunks, and one person at a time."""

import functools
from collections import defaultdict
from collections.abc import Iterable

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from registry.audit import Actor, actor_user
from registry.duplicate_matching import Match, PersonRecord, chunk_of, find_duplicates, person_duplicates
from registry.models import (
    Affiliation,
    DedupScan,
    DuplicateCandidate,
    Organization,
    OrganizationAlias,
    OrganizationDomain,
    Person,
    PersonEmail,
)

CHUNKS = 8
__all__ = ["chunk_of", "dedup_scan_chunk", "dedup_scan_start", "person_duplicates_check", "person_records"]


def person_records(people: Iterable[Person] | None = None) -> list[PersonRecord]:
    """Dedup records for live (not merged) people: email keys, organizations with their aliases, which of those
    staff reviewed, and which email domains are verified for an organization. A handful of queries."""
    base = Person.objects.filter(merged_into=None)
    if people is not None:
        base = base.filter(pk__in=[p.pk for p in people])
    emails: dict[int, set[str]] = defaultdict(set)
    for person_id, key in PersonEmail.objects.filter(person__in=base).values_list("person_id", "email_key"):
        emails[person_id].add(key)
    orgs: dict[int, dict[int, str]] = defaultdict(dict)
    reviewed: set[int] = set()
    for person_id, org_id, org_name, status in Affiliation.objects.filter(
        person__in=base, organization__isnull=False
    ).values_list("person_id", "organization_id", "organization__name", "organization__status"):
        orgs[person_id][org_id] = org_name
        if status == Organization.Status.REVIEWED:
            reviewed.add(org_id)
    org_ids = {org_id for by_org in orgs.values() for org_id in by_org}
    aliases: dict[int, list[str]] = defaultdict(list)
    for org_id, alias in OrganizationAlias.objects.filter(organization_id__in=org_ids).values_list(
        "organization_id", "name"
    ):
        aliases[org_id].append(alias)
    domains = {k.rpartition("@")[2] for keys in emails.values() for k in keys}
    verified = set(
        OrganizationDomain.objects.filter(domain__in=domains, verified=True).values_list("domain", flat=True)
    )
    return [
        PersonRecord(
            id=pk,
            name=name,
            email_keys=frozenset(emails[pk]),
            organizations=orgs[pk],
            aliases={o: tuple(sorted(aliases[o])) for o in orgs[pk] if aliases.get(o)},
            reviewed=frozenset(reviewed.intersection(orgs[pk])),
            verified_domains=frozenset(k.rpartition("@")[2] for k in emails[pk]) & verified,
        )
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


def dedup_scan_chunk(*, scan_id: int, chunk: int, chunks: int) -> int:
    """Score the blocks whose key hashes to `chunk`; any worker can take any chunk."""
    found = duplicates_record(find_duplicates(person_records(), chunk=(chunk, chunks)))
    DedupScan.objects.filter(pk=scan_id).update(
        chunks_done=F("chunks_done") + 1, candidates_found=F("candidates_found") + found
    )
    DedupScan.objects.filter(pk=scan_id, chunks_done__gte=F("chunks_total")).update(
        status=DedupScan.Status.DONE, finished_at=timezone.now()
    )
    return found


def person_duplicates_check(*, person_id: int) -> int:
    """Compare one (just confirmed) person with everyone it meets in a block: exactly the pairs of this person that
    a whole scan would find now (same records, same blocks, same term frequencies, same scoring)."""
    if not Person.objects.filter(pk=person_id, merged_into=None).exists():
        return 0
    return duplicates_record(person_duplicates(person_id, person_records()))


def dedup_scan_start(*, actor: Actor = None, chunks: int = CHUNKS) -> DedupScan:
    """Start a whole-registry scan: one task per chunk, enqueued after commit, progress on the DedupScan row."""
    from registry import tasks  # lazy: registry.tasks imports this module

    scan = DedupScan.objects.create(chunks_total=chunks, started_by=actor_user(actor))
    for chunk in range(chunks):
        transaction.on_commit(functools.partial(tasks.dedup_scan_chunk.delay, scan.pk, chunk, chunks))
    return scan
