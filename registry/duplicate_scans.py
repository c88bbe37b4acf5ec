"""Running duplicate detection over the registry: whole scans in shareable chunks, and one person at a time."""

import functools
import logging
import time
from collections import defaultdict
from collections.abc import Iterable, Iterator

from django.conf import settings
from django.db import InterfaceError, OperationalError, connection, transaction
from django.db.models import Count, F
from django.utils import timezone

from registry.audit import Actor, actor_user
from registry.dedup.blocking import key_families, keys_in_use
from registry.dedup.levels import Frequencies, frequency_keys
from registry.dedup.weights import TRAINED
from registry.duplicate_matching import Match, PersonRecord, blocking_keys, chunk_of, evaluate, scan_duplicates
from registry.models import (
    Affiliation,
    DedupScan,
    DuplicateCandidate,
    DuplicateCheckRequest,
    Organization,
    OrganizationAlias,
    OrganizationDomain,
    Person,
    PersonBlockKey,
    PersonEmail,
)

logger = logging.getLogger(__name__)
CHUNKS = 8
KEY_BATCH = 5000  # people whose index keys are reconciled at once
CHECK_BATCH = 500  # requested checks read at once by duplicates_check_requested
# The advisory lock key of the requested checks' turn (PostgreSQL); no other advisory lock is taken in this app.
CHECK_TURN_LOCK = 0x756E_6475
__all__ = [
    "chunk_of",
    "dedup_scan_chunk",
    "dedup_scan_start",
    "duplicates_check_requested",
    "duplicates_in_use",
    "person_duplicates_check",
    "person_duplicates_check_request",
    "person_keys_add",
    "person_keys_refresh",
    "person_records",
    "person_records_stream",
]


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


def person_records_stream(*, batch: int = KEY_BATCH) -> Iterator[PersonRecord]:
    """`person_records()` of every live person, `batch` people at a time by ascending id: a whole scan reads them
    as they come (registry.dedup.table keeps columns, not records) and never holds them all."""
    after = 0
    while True:
        ids = list(
            Person.objects.filter(merged_into=None, pk__gt=after).order_by("pk").values_list("pk", flat=True)[:batch]
        )
        if not ids:
            return
        yield from person_records(Person.objects.filter(pk__in=ids).only("pk"))
        after = ids[-1]


def duplicates_record(matches: Iterable[Match]) -> int:
    """Store new candidate pairs; pairs already known (open, merged or dismissed) are left as they are."""
    rows = [
        DuplicateCandidate(person_a_id=m.a, person_b_id=m.b, score=m.score, reasons=list(m.reasons)) for m in matches
    ]
    before = DuplicateCandidate.objects.count()
    DuplicateCandidate.objects.bulk_create(rows, ignore_conflicts=True, batch_size=1000)
    return DuplicateCandidate.objects.count() - before


def index_keys(record: PersonRecord) -> set[str]:
    """What PersonBlockKey holds for one person: its blocking keys and its term-frequency keys."""
    return blocking_keys(record) | set(frequency_keys(record))


def _keys_sync(records: list[PersonRecord], person_ids: list[int]) -> None:
    """Make the index hold exactly the keys of `records` for `person_ids` (people without a record lose theirs)."""
    wanted = {(record.id, key) for record in records for key in index_keys(record)}
    existing = PersonBlockKey.objects.filter(person_id__in=person_ids).values_list("pk", "person_id", "key")
    stale, have = [], set()
    for pk, person_id, key in existing:
        (have.add((person_id, key)) if (person_id, key) in wanted else stale.append(pk))
    if stale:
        PersonBlockKey.objects.filter(pk__in=stale).delete()
    PersonBlockKey.objects.bulk_create(
        [PersonBlockKey(person_id=pid, key=key) for pid, key in wanted - have], ignore_conflicts=True, batch_size=2000
    )


def person_keys_refresh(*, person_ids: Iterable[int]) -> None:
    """Recompute the index keys of some people after they changed (name, emails, organizations, merge, erasure)."""
    ids = sorted(set(person_ids))
    for start in range(0, len(ids), KEY_BATCH):
        batch = ids[start : start + KEY_BATCH]
        _keys_sync(person_records(Person.objects.filter(pk__in=batch)), batch)


def person_keys_add(*, person_ids: Iterable[int]) -> int:
    """Index keys of people just created in bulk (an import), so that the check at confirmation sees them before
    the next whole scan: their rows written at once (one COPY a batch on PostgreSQL). People who already have rows
    get theirs reconciled instead. Returns how many rows were written for people without any."""
    from registry.bulk import values_insert  # lazy: registry.bulk calls this after creating people

    ids = sorted(set(person_ids))
    written = 0
    for start in range(0, len(ids), KEY_BATCH):
        batch = ids[start : start + KEY_BATCH]
        indexed = set(PersonBlockKey.objects.filter(person_id__in=batch).values_list("person_id", flat=True))
        if indexed:
            person_keys_refresh(person_ids=indexed)
        fresh = person_records(Person.objects.filter(pk__in=[pk for pk in batch if pk not in indexed]).only("pk"))
        written += values_insert(
            PersonBlockKey, [{"person_id": r.id, "key": key} for r in fresh for key in sorted(index_keys(r))]
        )
    return written


def duplicates_in_use() -> float:
    """Duplicates per person the matcher's prior assumes now (registry.dedup.prior): the estimate of the latest
    whole scan that made one, or the training sets' value before any."""
    stored = (
        DedupScan.objects.exclude(duplicates_per_person=None)
        .order_by("-started_at", "-pk")
        .values_list("duplicates_per_person", flat=True)
        .first()
    )
    return TRAINED.DUPLICATES_PER_PERSON if stored is None else stored


def dedup_scan_chunk(*, scan_id: int, chunk: int, chunks: int) -> int:
    """Score the blocks whose key hashes to `chunk`; any worker can take any chunk. The scan's first chunk to run
    estimates the prior from the registry and stores it on the scan; the others score with it. Also reconciles the
    index keys of the people whose id falls in this chunk (anyone whose keys were missed gets them here)."""
    stored = DedupScan.objects.filter(pk=scan_id).values_list("duplicates_per_person", flat=True).first()
    matches, duplicates = scan_duplicates(person_records_stream(), chunk=(chunk, chunks), duplicates=stored)
    if stored is None:
        DedupScan.objects.filter(pk=scan_id, duplicates_per_person=None).update(duplicates_per_person=duplicates)
        kept = DedupScan.objects.filter(pk=scan_id).values_list("duplicates_per_person", flat=True).first()
        if kept is not None and kept != duplicates:
            # Another first chunk ran at once on a registry that changed in between and stored its estimate first:
            # every chunk, and the check at confirmation, must score with the one the scan keeps.
            matches, duplicates = scan_duplicates(person_records_stream(), chunk=(chunk, chunks), duplicates=kept)
    found = duplicates_record(matches)
    live = Person.objects.filter(merged_into=None).values_list("pk", flat=True)
    person_keys_refresh(person_ids=[pk for pk in live.iterator() if pk % chunks == chunk])
    # Index rows of people no longer live (merged, deleted) in this chunk.
    stale = (
        PersonBlockKey.objects.exclude(person_id__in=Person.objects.filter(merged_into=None).values("pk"))
        .values_list("person_id", flat=True)
        .distinct()
    )
    dead = [pid for pid in stale if pid % chunks == chunk]
    if dead:
        PersonBlockKey.objects.filter(person_id__in=dead).delete()
    DedupScan.objects.filter(pk=scan_id).update(
        chunks_done=F("chunks_done") + 1, candidates_found=F("candidates_found") + found
    )
    DedupScan.objects.filter(pk=scan_id, chunks_done__gte=F("chunks_total")).update(
        status=DedupScan.Status.DONE, finished_at=timezone.now()
    )
    return found


def person_duplicates_check(*, person_id: int) -> int:
    """Compare one (just confirmed) person with everyone it meets in a block: exactly the pairs of this person that
    a whole scan would find now under the last scan's prior (same blocks, same term frequencies, same scoring),
    without reading the registry: its blocks and how many share each key come from the key index (PersonBlockKey)."""
    mine = person_records(Person.objects.filter(pk=person_id, merged_into=None))
    if not mine:
        person_keys_refresh(person_ids=[person_id])  # merged or gone: its keys go
        return 0
    [person] = mine
    _keys_sync(mine, [person_id])
    tf = frequency_keys(person)
    families = key_families(person)
    keys = {key for coarse, fine in families for key in (coarse, *fine)} | set(tf)
    counts = dict(
        PersonBlockKey.objects.filter(key__in=keys).values("key").annotate(n=Count("person_id")).values_list("key", "n")
    )
    used = {key for key in keys_in_use(families, counts) if counts.get(key, 0) >= 2}
    mates = set(PersonBlockKey.objects.filter(key__in=used).values_list("person_id", flat=True)) - {person_id}
    by_kind: dict[str, dict] = defaultdict(dict)
    for key, (kind, value) in tf.items():
        by_kind[kind][value] = counts.get(key, 0)
    freq = Frequencies.of_counts(Person.objects.filter(merged_into=None).count(), by_kind, duplicates_in_use())
    others = person_records(Person.objects.filter(pk__in=mates))
    matches = [m for m in (evaluate(person, other, freq=freq) for other in others) if m]
    return duplicates_record(matches)


def person_duplicates_check_request(*, person_id: int) -> None:
    """Ask for `person_duplicates_check` of a person: call inside the transaction that confirmed one of their
    signatures, so the request commits with it. Beat's `duplicates_check_requested` runs it."""
    DuplicateCheckRequest.objects.create(person_id=person_id)


def _check_turn() -> bool:
    """Take the requested checks' turn until this transaction ends (a PostgreSQL advisory lock); False when another
    run holds it. SQLite serializes its writers itself, and has one beat at most (development)."""
    if connection.vendor != "postgresql":
        return True
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [CHECK_TURN_LOCK])
        return bool(cursor.fetchone()[0])


def _requested_check(person_id: int) -> bool | None:
    """One person's requested check, in its own transaction: None when another run holds the turn, False when
    nothing is left to check (a run that held the turn did it), True once checked and its requests deleted."""
    with transaction.atomic():
        if not _check_turn():
            return None
        requests = list(DuplicateCheckRequest.objects.filter(person_id=person_id).values_list("pk", flat=True))
        if not requests:
            return False
        person_duplicates_check(person_id=person_id)
        DuplicateCheckRequest.objects.filter(pk__in=requests).delete()
        return True


def duplicates_check_requested(*, budget_seconds: float | None = None) -> int:
    """Beat: `person_duplicates_check` of each person with a DuplicateCheckRequest, in the order of their first
    request, once however often they confirmed. One person per transaction: it takes the checks' turn (held by
    another run: this one stops, so no person is checked twice at once), reads the person's requests, checks and
    deletes exactly those, so a crash before the commit leaves them for the next run and a request that arrives
    meanwhile is checked again then. Stops after `budget_seconds` (DEDUP_CHECK_BUDGET_SECONDS); returns how many
    people it checked."""
    budget = settings.DEDUP_CHECK_BUDGET_SECONDS if budget_seconds is None else budget_seconds
    deadline = time.monotonic() + budget
    checked, failed = 0, set[int]()
    while time.monotonic() < deadline:
        pending = DuplicateCheckRequest.objects.exclude(person_id__in=failed).order_by("pk")
        people = list(dict.fromkeys(pending.values_list("person_id", flat=True)[:CHECK_BATCH]))
        if not people:
            break
        for person_id in people:
            try:
                done = _requested_check(person_id)
            except (OperationalError, InterfaceError):
                raise  # the database is away: the next run starts over
            except Exception:
                # A person the check fails on keeps its requests (tried again next run) and holds up nobody else.
                logger.exception("Duplicate check of person %s failed", person_id)
                failed.add(person_id)
                continue
            if done is None:
                return checked
            checked += done
            if time.monotonic() >= deadline:
                break
    return checked


def dedup_scan_start(*, actor: Actor = None, chunks: int = CHUNKS) -> DedupScan:
    """Start a whole-registry scan: one task per chunk, enqueued after commit, progress on the DedupScan row."""
    from registry import tasks  # lazy: registry.tasks imports this module

    scan = DedupScan.objects.create(chunks_total=chunks, started_by=actor_user(actor))
    for chunk in range(chunks):
        transaction.on_commit(functools.partial(tasks.dedup_scan_chunk.delay, scan.pk, chunk, chunks))
    return scan
