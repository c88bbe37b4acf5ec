"""Per-letter public counts folded from SignatureEvents in batches; never a COUNT(*) per request.

Each event says whether its signature entered or left the public list and its level before and after, so an event's
effect on the counts is known without looking at anything else. `letter_counts_refresh` (beat, every 2 s) folds new
events into `LetterCount` totals and per-minute, -hour and -day `LetterCountBucket`s; `letter_counts_reconcile`
(beat, every 10 min) compares the totals with the signatures and the folded events with the history, and rebuilds a
letter's aggregates from its events when they disagree.

The fold's horizon. The history is ordered by `at` (letters.history replays "the last event at or before the
instant", buckets are by `at`), so the fold takes events by `at` too: a fold at `now` takes in every event with
`at` up to its horizon `now - FOLD_MARGIN` and none after, and stores that horizon as `LetterCount.counted_at`: the
instant its totals are exactly the history's (`letter_counts_as_of(as_of=counted_at)` gives the same numbers). The
fold's time is not that instant: events of the last FOLD_MARGIN are left out, and labelling the totals with the
fold's time made them look FOLD_MARGIN younger than they are. Selecting by `recorded_at` or by an id watermark did
not match the history's order either: an event's `at` is stamped before its row is written and committed (about
0.1 s for a signature and 0.55 s for a withdrawal, measured under load; an import batch stamps one `at` on its 2,500
rows before writing them), so ids, write times and `at` disagree.

Late commits. An event may commit after a fold whose horizon is past its `at` (its transaction took longer than
FOLD_MARGIN): no watermark can see it coming, since its id and `at` are both behind ones already folded. Every
minute bucket therefore counts the events it took in (`events`), and each fold first compares, for the minutes
within LATE_RECHECK before the previous horizon, the events in the history with the events folded (one indexed
count); a minute that differs is tallied again from its events and the difference is added to its hour, its day
and the totals (`_repair_late`). An event later than LATE_RECHECK is found by the reconcile task (every 10 min),
which compares all the events up to the horizon with the day buckets and rebuilds the letter when they differ.
"""

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import OperationalError, connection, transaction
from django.db.models import Count, Q, Sum
from django.utils import timezone

from letters.models import (
    VERIFIED_LEVELS,
    Letter,
    LetterCount,
    LetterCountBucket,
    Milestone,
    Signature,
    SignatureEvent,
)
from letters.presentation import shown_organization_key_of

FOLD_MARGIN = timedelta(seconds=1)  # events with `at` in the last second may not be committed yet
STALE_AFTER = timedelta(seconds=5)  # a read refolds when the horizon is older than this (the beat keeps it ~3 s)
LATE_RECHECK = timedelta(seconds=60)  # each fold recounts the minutes this long before the previous horizon
WAIT_FOR_FOLD = 1.0  # seconds a read waits for a fold under way before replaying the counts itself


class FoldBusy(Exception):
    """Another transaction held the letter's count row longer than WAIT_FOR_FOLD."""


BATCH = 5000
EVENT_FIELDS = (
    "id",
    "kind",
    "at",
    "visible_before",
    "visible_after",
    "level_before",
    "level_after",
    "organization_before",
    "organization_after",
    "signature__name_shown",
    "signature__organization__slug",
    "signature__organization__status",
    "signature__organization_name",
)


def _organization(event: dict[str, Any], side: str) -> str:
    """The organization key the event recorded; for events from before keys were recorded, the one shown now."""
    if event[side] is not None:
        return event[side]
    return shown_organization_key_of(
        slug=event["signature__organization__slug"],
        status=event["signature__organization__status"],
        typed=event["signature__organization_name"],
    )


@dataclass
class Tally:
    """Changes to the public list; adding tallies in time order gives the counts at the end of that time."""

    added: int = 0
    removed: int = 0
    withdrawn: int = 0
    rejected: int = 0
    name_withheld: int = 0
    by_level: Counter = field(default_factory=Counter)
    by_organization: Counter = field(default_factory=Counter)
    events: int = 0  # events applied, whether or not they changed a count (the late-commit check compares these)

    @property
    def public(self) -> int:
        return self.added - self.removed

    def apply(self, event: dict[str, Any]) -> None:
        self.events += 1
        before, after = event["visible_before"], event["visible_after"]
        if before:
            self.by_level[event["level_before"]] -= 1
            self.by_organization[_organization(event, "organization_before")] -= 1
        if after:
            self.by_level[event["level_after"]] += 1
            self.by_organization[_organization(event, "organization_after")] += 1
        if after and not before:
            self.added += 1
            self.name_withheld += not event["signature__name_shown"]
        elif before and not after:
            self.removed += 1
            self.name_withheld -= not event["signature__name_shown"]
        was_confirmed = event["level_before"] != "none"
        if event["kind"] == SignatureEvent.Kind.WITHDRAWN and was_confirmed:
            self.withdrawn += 1
        elif event["kind"] == SignatureEvent.Kind.REJECTED and before:  # a held one was never public
            self.rejected += 1

    def add_bucket(self, bucket: LetterCountBucket) -> None:
        self.added += bucket.added
        self.removed += bucket.removed
        self.withdrawn += bucket.withdrawn
        self.rejected += bucket.rejected
        self.name_withheld += bucket.name_withheld_delta
        self.by_level.update(bucket.by_level)
        self.by_organization.update(bucket.by_organization)
        self.events += bucket.events

    def add(self, other: "Tally") -> None:
        self.added += other.added
        self.removed += other.removed
        self.withdrawn += other.withdrawn
        self.rejected += other.rejected
        self.name_withheld += other.name_withheld
        self.by_level.update(other.by_level)
        self.by_organization.update(other.by_organization)
        self.events += other.events

    def minus(self, other: "Tally") -> "Tally":
        """What has to be added to `other` to give this tally."""
        by_level, by_organization = Counter(self.by_level), Counter(self.by_organization)
        by_level.subtract(other.by_level)
        by_organization.subtract(other.by_organization)
        return Tally(
            added=self.added - other.added,
            removed=self.removed - other.removed,
            withdrawn=self.withdrawn - other.withdrawn,
            rejected=self.rejected - other.rejected,
            name_withheld=self.name_withheld - other.name_withheld,
            by_level=by_level,
            by_organization=by_organization,
            events=self.events - other.events,
        )

    def as_counts(self) -> dict[str, Any]:
        by_level = {level: n for level, n in sorted(self.by_level.items()) if n > 0}
        return {
            "public": self.public,
            "verified": sum(by_level.get(level, 0) for level in VERIFIED_LEVELS),
            "by_level": by_level,
            "withdrawn": self.withdrawn,
            "rejected": self.rejected,
            "name_withheld": self.name_withheld,
        }


MINUTE, HOUR, DAY = LetterCountBucket.Span.MINUTE, LetterCountBucket.Span.HOUR, LetterCountBucket.Span.DAY
ONE_MINUTE = timedelta(minutes=1)


def _minute(at: datetime) -> datetime:
    return at.replace(second=0, microsecond=0)


def _hour(at: datetime) -> datetime:
    return at.replace(minute=0, second=0, microsecond=0)


def _day(at: datetime) -> datetime:
    return at.replace(hour=0, minute=0, second=0, microsecond=0)


def _bucket_keys(at: datetime) -> tuple[tuple[str, datetime], ...]:
    return ((MINUTE, _minute(at)), (HOUR, _hour(at)), (DAY, _day(at)))


def _merge_into_buckets(letter_id: int, per_bucket: dict[tuple[str, datetime], Tally]) -> None:
    starts = {start for _, start in per_bucket}
    existing = {
        (b.span, b.start): b
        for b in LetterCountBucket.objects.select_for_update(of=("self",), no_key=True).filter(
            letter_id=letter_id, start__in=starts
        )
    }
    new: list[LetterCountBucket] = []
    changed: list[LetterCountBucket] = []
    for (span, start), tally in per_bucket.items():
        bucket = existing.get((span, start)) or LetterCountBucket(
            letter_id=letter_id, span=span, start=start, by_level={}, by_organization={}
        )
        bucket.added += tally.added
        bucket.removed += tally.removed
        bucket.withdrawn += tally.withdrawn
        bucket.rejected += tally.rejected
        bucket.name_withheld_delta += tally.name_withheld
        bucket.events += tally.events
        bucket.by_level = _sum_dicts(bucket.by_level, tally.by_level)
        bucket.by_organization = _sum_dicts(bucket.by_organization, tally.by_organization)
        (changed if bucket.pk else new).append(bucket)
    LetterCountBucket.objects.bulk_create(new)
    LetterCountBucket.objects.bulk_update(
        changed,
        ["added", "removed", "withdrawn", "rejected", "name_withheld_delta", "events", "by_level", "by_organization"],
    )


def _sum_dicts(base: dict[str, int], delta: Counter) -> dict[str, int]:
    total = Counter(base)
    total.update(delta)
    return {k: v for k, v in total.items() if v != 0}


def _totals_of(count: LetterCount) -> Tally:
    return Tally(
        added=count.public,
        withdrawn=count.withdrawn,
        rejected=count.rejected,
        name_withheld=count.name_withheld,
        by_level=Counter(count.by_level),
        by_organization=Counter(count.by_organization),
    )


def _store_totals(count: LetterCount, totals: Tally) -> None:
    counts = totals.as_counts()
    count.public = counts["public"]
    count.verified = counts["verified"]
    count.by_level = counts["by_level"]
    count.withdrawn = counts["withdrawn"]
    count.rejected = counts["rejected"]
    count.name_withheld = counts["name_withheld"]
    count.by_organization = {k: v for k, v in totals.by_organization.items() if v > 0}


def _fold(count: LetterCount, events: Iterable[dict[str, Any]]) -> int:
    """Apply events to the letter's totals and buckets. Caller holds the LetterCount row lock."""
    totals = _totals_of(count)
    per_bucket: dict[tuple[str, datetime], Tally] = defaultdict(Tally)
    folded = 0
    for event in events:
        totals.apply(event)
        for key in _bucket_keys(event["at"]):
            per_bucket[key].apply(event)
        count.last_event_id = max(count.last_event_id, event["id"])
        folded += 1
    if folded:
        _merge_into_buckets(count.letter_id, per_bucket)
        _store_totals(count, totals)
    return folded


def _repair_late(count: LetterCount, horizon: datetime) -> int:
    """Take in events that committed after the fold whose horizon (`horizon`) was past their `at`: for each minute
    within LATE_RECHECK before it, the events in the history (one count over the (letter, at) index) against the
    events its bucket folded; a minute that differs is tallied again and the difference goes to the minute, its hour,
    its day and the totals. Returns the events taken in. Caller holds the LetterCount row lock."""
    first = _minute(horizon - LATE_RECHECK)
    minutes = [first + timedelta(minutes=n) for n in range(int((horizon - first) / ONE_MINUTE) + 1)]
    recent = SignatureEvent.objects.filter(letter_id=count.letter_id, at__gte=first, at__lte=horizon)
    in_history = recent.aggregate(
        **{f"m{n}": Count("id", filter=Q(at__gte=m, at__lt=m + ONE_MINUTE)) for n, m in enumerate(minutes)}
    )
    buckets = {
        b.start: b for b in LetterCountBucket.objects.filter(letter_id=count.letter_id, span=MINUTE, start__in=minutes)
    }
    per_bucket: dict[tuple[str, datetime], Tally] = defaultdict(Tally)
    total = Tally()
    for n, minute in enumerate(minutes):
        folded = Tally()
        if minute in buckets:
            folded.add_bucket(buckets[minute])
        if in_history[f"m{n}"] == folded.events:
            continue
        now = Tally()
        for event in recent.filter(at__gte=minute, at__lt=minute + ONE_MINUTE).values(*EVENT_FIELDS):
            now.apply(event)
            count.last_event_id = max(count.last_event_id, event["id"])
        delta = now.minus(folded)
        total.add(delta)
        for key in _bucket_keys(minute):
            per_bucket[key].add(delta)
    if not per_bucket:
        return 0
    _merge_into_buckets(count.letter_id, per_bucket)
    totals = _totals_of(count)
    totals.add(total)
    _store_totals(count, totals)
    return total.events


def _count_locked(letter_id: int, *, wait: bool) -> LetterCount | None:
    """The letter's count row, locked; None when there is none or (without `wait`) another process holds it."""
    locked = LetterCount.objects.select_for_update(skip_locked=not wait, of=("self",), no_key=True)
    try:
        return locked.filter(letter_id=letter_id).first()
    except OperationalError as error:  # lock_timeout: a long fold or rebuild holds the row
        raise FoldBusy from error


def letter_count_refresh(*, letter_id: int, now: datetime | None = None, wait: bool = False) -> int:
    """Fold one letter's events up to the horizon `now - FOLD_MARGIN` (events by `at`, see the module's docstring)
    and store that horizon as `counted_at`. Returns the events taken in.

    Skips when another process is folding the letter; with `wait`, waits for that fold instead (up to WAIT_FOR_FOLD
    on PostgreSQL, else FoldBusy) and folds only if the horizon is still older than STALE_AFTER after it (what a
    read that needs fresh counts asks)."""
    with transaction.atomic():
        if wait and connection.vendor == "postgresql":
            with connection.cursor() as cursor:  # this transaction only
                cursor.execute("SELECT set_config('lock_timeout', %s, true)", [f"{int(WAIT_FOR_FOLD * 1000)}ms"])
        count = _count_locked(letter_id, wait=wait)
        if count is None:
            if LetterCount.objects.filter(letter_id=letter_id).exists() and not wait:
                return 0  # another process is folding it
            LetterCount.objects.get_or_create(letter_id=letter_id)
            if not wait:
                return 0
            count = _count_locked(letter_id, wait=wait)
            assert count is not None  # created above, and never deleted but with its letter
        now = now or timezone.now()
        previous = count.counted_at
        if wait and previous is not None and previous >= now - STALE_AFTER:
            return 0  # folded by the process this one waited for
        horizon = now - FOLD_MARGIN
        if previous is not None and horizon <= previous:
            return 0  # a clock that went back: nothing after the horizon may be taken in yet
        public_before = count.public
        folded = _repair_late(count, previous) if previous is not None else 0
        events = SignatureEvent.objects.filter(letter_id=letter_id, at__lte=horizon)
        if previous is not None:
            events = events.filter(at__gt=previous)  # the (letter, at) index
        folded += _fold(count, events.order_by("at", "id").values(*EVENT_FIELDS).iterator(chunk_size=BATCH))
        count.counted_at = horizon
        count.save()
        if count.public > public_before:
            milestones_record(letter_id=letter_id, before=public_before, after=count.public, at=horizon)
        return folded


def milestone_thresholds(*, letter_id: int) -> list[int]:
    """The public counts announced for a letter: MILESTONE_THRESHOLDS and its owners' (Letter.milestone_thresholds)."""
    own = Letter.objects.filter(pk=letter_id).values_list("milestone_thresholds", flat=True).first() or []
    return sorted({*settings.MILESTONE_THRESHOLDS, *own})


def milestones_record(*, letter_id: int, before: int, after: int, at: datetime) -> list[int]:
    """Record the thresholds a fold's public count passed (before < threshold <= after), each once per letter ever:
    a count that drops below a threshold and reaches it again records nothing (the unique constraint decides).
    The letter's fold calls it under its LetterCount lock; each new row is queued for webhooks by a trigger."""
    crossed = [t for t in milestone_thresholds(letter_id=letter_id) if before < t <= after]
    Milestone.objects.bulk_create(
        [Milestone(letter_id=letter_id, threshold=t, count=after, reached_at=at) for t in crossed],
        ignore_conflicts=True,
    )
    return crossed


def letter_counts_refresh() -> int:
    """Beat task body: fold new events for every letter."""
    return sum(letter_count_refresh(letter_id=pk) for pk in Letter.objects.values_list("pk", flat=True))


def letter_count_fresh(*, letter: Letter) -> LetterCount:
    """The letter's counts, true at `counted_at` (the fold's horizon), which is never older than STALE_AFTER when
    this returns: when the beat has not folded since, this read folds (or waits for the fold under way)."""
    count = LetterCount.objects.filter(letter=letter).first()
    if count is None or count.counted_at is None or count.counted_at < timezone.now() - STALE_AFTER:
        try:
            letter_count_refresh(letter_id=letter.pk, wait=True)
        except FoldBusy:
            return _count_replayed(letter)
        count = LetterCount.objects.get(letter=letter)
    return count


def _count_replayed(letter: Letter) -> LetterCount:
    """The counts at `now - FOLD_MARGIN` replayed (letter_counts_as_of), unsaved: for a read that could not wait for
    the fold holding the letter's row (a rebuild of a big letter), which reads the last committed buckets."""
    at = timezone.now() - FOLD_MARGIN
    counts = letter_counts_as_of(letter=letter, as_of=at)
    fields = ("public", "verified", "by_level", "withdrawn", "rejected", "name_withheld", "by_organization")
    return LetterCount(letter=letter, counted_at=at, **{name: counts[name] for name in fields})


@transaction.atomic
def letter_count_rebuild(*, letter_id: int, now: datetime | None = None) -> LetterCount:
    """Recompute a letter's totals and buckets from all its events up to the horizon `now - FOLD_MARGIN`."""
    count, _ = LetterCount.objects.select_for_update(of=("self",), no_key=True).get_or_create(letter_id=letter_id)
    LetterCountBucket.objects.filter(letter_id=letter_id).delete()
    count.public = count.verified = count.withdrawn = count.rejected = count.name_withheld = 0
    count.by_level, count.by_organization, count.last_event_id = {}, {}, 0
    horizon = (now or timezone.now()) - FOLD_MARGIN
    events = SignatureEvent.objects.filter(letter_id=letter_id, at__lte=horizon).order_by("at", "id")
    _fold(count, events.values(*EVENT_FIELDS).iterator(chunk_size=BATCH))
    count.counted_at = horizon
    count.save()
    return count


def _drifted(count: LetterCount) -> bool:
    """The totals disagree with the signatures (when no event came after the horizon), or the buckets did not take
    in every event up to the horizon (one committed later than LATE_RECHECK after its `at`). Caller holds the
    LetterCount row lock."""
    if count.counted_at is None:
        return SignatureEvent.objects.filter(letter_id=count.letter_id).exists()
    # The signatures are as of now and the totals as of the horizon: they compare only when nothing happened since.
    if not SignatureEvent.objects.filter(letter_id=count.letter_id, at__gt=count.counted_at).exists():
        actual = (
            Signature.objects.visible()
            .filter(letter_id=count.letter_id)
            .aggregate(
                public=Count("id"),
                verified=Count("id", filter=Q(verification_level__in=VERIFIED_LEVELS)),
                name_withheld=Count("id", filter=Q(name_shown=False)),
            )
        )
        if actual != {"public": count.public, "verified": count.verified, "name_withheld": count.name_withheld}:
            return True
    in_history = SignatureEvent.objects.filter(letter_id=count.letter_id, at__lte=count.counted_at).count()
    days = LetterCountBucket.objects.filter(letter_id=count.letter_id, span=DAY)
    return in_history != (days.aggregate(n=Sum("events"))["n"] or 0)


def letter_counts_reconcile() -> int:
    """Beat task body: rebuild the aggregates of every letter whose totals disagree with its signatures or whose
    buckets miss events of its history (a letter being folded meanwhile is left to the next run)."""
    letter_counts_refresh()
    rebuilt = 0
    for letter_id in Letter.objects.values_list("pk", flat=True):
        with transaction.atomic():
            locked = LetterCount.objects.select_for_update(skip_locked=True, of=("self",), no_key=True)
            count = locked.filter(letter_id=letter_id).first()
            if count is None and LetterCount.objects.filter(letter_id=letter_id).exists():
                continue
            drifted = count is None or _drifted(count)
        if drifted:
            letter_count_rebuild(letter_id=letter_id)
            rebuilt += 1
    return rebuilt


def _horizon(letter: Letter) -> datetime | None:
    return LetterCount.objects.filter(letter=letter).values_list("counted_at", flat=True).first()


def _counts_as_of(letter: Letter, as_of: datetime, horizon: datetime | None) -> dict[str, Any]:
    minute, hour, day = _minute(as_of), _hour(as_of), _day(as_of)
    tally = Tally()
    events = SignatureEvent.objects.filter(letter=letter)
    rows = list(events.filter(at__gte=minute, at__lte=as_of).values(*EVENT_FIELDS))  # the (letter, at) index
    if horizon is None:  # nothing folded: no buckets to read
        rows += events.filter(at__lt=minute).values(*EVENT_FIELDS)
    else:
        spans = (
            Q(span=DAY, start__lt=day)
            | Q(span=HOUR, start__gte=day, start__lt=hour)
            | Q(span=MINUTE, start__gte=hour, start__lt=minute)
        )
        for bucket in LetterCountBucket.objects.filter(spans, letter=letter).only(
            "added", "removed", "withdrawn", "rejected", "name_withheld_delta", "events", "by_level", "by_organization"
        ):
            tally.add_bucket(bucket)
        if horizon < minute:  # the buckets hold events up to the horizon; the rest before the minute are read
            rows += events.filter(at__gt=horizon, at__lt=minute).values(*EVENT_FIELDS)
    for event in rows:
        tally.apply(event)
    result = tally.as_counts()
    result["by_organization"] = {k: v for k, v in tally.by_organization.items() if v > 0}
    return result


def letter_counts_as_of(*, letter: Letter, as_of: datetime) -> dict[str, Any]:
    """Counts as the public saw them at `as_of`: every event with `at` at or before it (as letters.history replays).

    Whole days, hours and minutes before its minute come from the buckets (at most ~110 rows whatever the letter's
    size), which hold the events up to the fold's horizon; then that minute's events, and the events after the
    horizon and before that minute (not folded yet: a few seconds of them), are read by the (letter, at) index. So
    at `as_of = counted_at` this is exactly the folded totals. The horizon is read before and after the buckets: if a
    fold committed in between, buckets and events may overlap, and the reading is done again (the last time holding
    the count's row, so no fold can commit meanwhile).
    """
    for _ in range(3):
        horizon = _horizon(letter)
        result = _counts_as_of(letter, as_of, horizon)
        if _horizon(letter) == horizon:
            return result
    with transaction.atomic():
        LetterCount.objects.select_for_update(of=("self",), no_key=True).filter(letter=letter).first()
        return _counts_as_of(letter, as_of, _horizon(letter))
