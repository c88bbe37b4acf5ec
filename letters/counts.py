"""Per-letter public counts folded from SignatureEvents in batches; never a COUNT(*) per request.

Each event says whether its signature entered or left the public list and its level before and after, so an event's
effect on the counts is known without looking at anything else. `letter_counts_refresh` (beat, every 2 s) folds new
events into `LetterCount` totals and per-minute, -hour and -day `LetterCountBucket`s; `letter_counts_reconcile`
(beat, every 10 min) compares the totals with the signatures and rebuilds a letter's aggregates from its events when
they drifted (an event committed later than the fold margin, say).
"""

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q
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

FOLD_MARGIN = timedelta(seconds=1)
STALE_AFTER = timedelta(seconds=5)
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

    @property
    def public(self) -> int:
        return self.added - self.removed

    def apply(self, event: dict[str, Any]) -> None:
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
        bucket.by_level = _sum_dicts(bucket.by_level, tally.by_level)
        bucket.by_organization = _sum_dicts(bucket.by_organization, tally.by_organization)
        (changed if bucket.pk else new).append(bucket)
    LetterCountBucket.objects.bulk_create(new)
    LetterCountBucket.objects.bulk_update(
        changed, ["added", "removed", "withdrawn", "rejected", "name_withheld_delta", "by_level", "by_organization"]
    )


def _sum_dicts(base: dict[str, int], delta: Counter) -> dict[str, int]:
    total = Counter(base)
    total.update(delta)
    return {k: v for k, v in total.items() if v != 0}


def _fold(count: LetterCount, events: Iterable[dict[str, Any]]) -> int:
    """Apply events (in id order) to the letter's totals and buckets. Caller holds the LetterCount row lock."""
    totals = Tally(
        added=count.public,
        withdrawn=count.withdrawn,
        rejected=count.rejected,
        name_withheld=count.name_withheld,
        by_level=Counter(count.by_level),
        by_organization=Counter(count.by_organization),
    )
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
        counts = totals.as_counts()
        count.public = counts["public"]
        count.verified = counts["verified"]
        count.by_level = counts["by_level"]
        count.withdrawn = counts["withdrawn"]
        count.rejected = counts["rejected"]
        count.name_withheld = counts["name_withheld"]
        count.by_organization = {k: v for k, v in totals.by_organization.items() if v > 0}
    return folded


def letter_count_refresh(*, letter_id: int, now: datetime | None = None) -> int:
    """Fold one letter's new events (older than the margin). Skips when another process is folding it."""
    now = now or timezone.now()
    with transaction.atomic():
        count = (
            LetterCount.objects.select_for_update(skip_locked=True, of=("self",), no_key=True)
            .filter(letter_id=letter_id)
            .first()
        )
        if count is None:
            if not LetterCount.objects.filter(letter_id=letter_id).exists():
                LetterCount.objects.get_or_create(letter_id=letter_id)
            return 0
        folded, public_before = 0, count.public
        while True:
            events = list(
                SignatureEvent.objects.filter(
                    letter_id=letter_id, id__gt=count.last_event_id, recorded_at__lte=now - FOLD_MARGIN
                )
                .order_by("id")
                .values(*EVENT_FIELDS)[:BATCH]
            )
            folded += _fold(count, events)
            if len(events) < BATCH:
                break
        count.counted_at = now
        count.save()
        if count.public > public_before:
            milestones_record(letter_id=letter_id, before=public_before, after=count.public, at=now)
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
    """The letter's counts, folding pending events first when the beat has not done so for STALE_AFTER."""
    count = LetterCount.objects.filter(letter=letter).first()
    if count is None or count.counted_at is None or count.counted_at < timezone.now() - STALE_AFTER:
        letter_count_refresh(letter_id=letter.pk)
        count = LetterCount.objects.get(letter=letter)
    return count


@transaction.atomic
def letter_count_rebuild(*, letter_id: int) -> LetterCount:
    """Recompute a letter's totals and buckets from all its events."""
    count, _ = LetterCount.objects.select_for_update(of=("self",), no_key=True).get_or_create(letter_id=letter_id)
    LetterCountBucket.objects.filter(letter_id=letter_id).delete()
    count.public = count.verified = count.withdrawn = count.rejected = count.name_withheld = 0
    count.by_level, count.by_organization, count.last_event_id = {}, {}, 0
    now = timezone.now()
    events = SignatureEvent.objects.filter(letter_id=letter_id).order_by("id").values(*EVENT_FIELDS)
    _fold(count, events.iterator(chunk_size=BATCH))
    count.counted_at = now
    count.save()
    return count


def _drifted(count: LetterCount) -> bool:
    visible = Signature.objects.visible().filter(letter_id=count.letter_id)
    actual = visible.aggregate(
        public=Count("id"),
        verified=Count("id", filter=Q(verification_level__in=VERIFIED_LEVELS)),
        name_withheld=Count("id", filter=Q(name_shown=False)),
    )
    return actual != {"public": count.public, "verified": count.verified, "name_withheld": count.name_withheld}


def letter_counts_reconcile() -> int:
    """Beat task body: rebuild the aggregates of every letter whose totals disagree with its signatures."""
    letter_counts_refresh()
    rebuilt = 0
    for letter_id in Letter.objects.values_list("pk", flat=True):
        count = LetterCount.objects.filter(letter_id=letter_id).first()
        if count is None or _drifted(count):
            letter_count_rebuild(letter_id=letter_id)
            rebuilt += 1
    return rebuilt


def letter_counts_as_of(*, letter: Letter, as_of: datetime) -> dict[str, Any]:
    """Counts as the public saw them at `as_of`: whole days, hours and minutes before it, then its minute's events.

    At most ~110 bucket rows are read whatever the letter's size. Events not folded yet (newer than the last fold)
    are read directly, so the answer does not wait for the beat.
    """
    count = LetterCount.objects.filter(letter=letter).first()
    last_folded = count.last_event_id if count else 0
    minute, hour, day = _minute(as_of), _hour(as_of), _day(as_of)
    tally = Tally()
    spans = (
        Q(span=DAY, start__lt=day)
        | Q(span=HOUR, start__gte=day, start__lt=hour)
        | Q(span=MINUTE, start__gte=hour, start__lt=minute)
    )
    for bucket in LetterCountBucket.objects.filter(spans, letter=letter).only(
        "added", "removed", "withdrawn", "rejected", "name_withheld_delta", "by_level", "by_organization"
    ):
        tally.add_bucket(bucket)
    events = SignatureEvent.objects.filter(letter=letter)
    this_minute = events.filter(at__gte=minute, at__lte=as_of)  # the (letter, at) index
    # Not folded yet: a few seconds of events, found by the (letter, id) index; filtering them by time in SQL would
    # tempt the planner into scanning the whole history by time.
    unfolded = [e for e in events.filter(id__gt=last_folded).values(*EVENT_FIELDS) if e["at"] < minute]
    for event in [*this_minute.values(*EVENT_FIELDS), *unfolded]:
        tally.apply(event)
    result = tally.as_counts()
    result["by_organization"] = {k: v for k, v in tally.by_organization.items() if v > 0}
    return result
