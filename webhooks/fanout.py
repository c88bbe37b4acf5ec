"""The fan-out: announced changes (letters.AnnouncementQueue rows, written by triggers in the transaction of the
change, and moderation TrendingAlerts not announced yet) become one Delivery per active endpoint of the letter
subscribed to the event type; then the queue rows are deleted (alerts marked announced), in the same transaction.

Batches are claimed with SELECT … FOR UPDATE SKIP LOCKED, so two workers never fan out the same row, and a delivery
is unique per (endpoint, source): a batch that ran twice cannot announce a change twice. Rows of letters the public
cannot see (drafts, scheduled) are dropped: their webhooks start at publication (letter.published)."""

import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from letters.models import AnnouncementQueue, Letter, LetterCount, LetterVersion, Milestone, SignatureEvent
from moderation.models import TrendingAlert
from webhooks import payloads
from webhooks.models import Delivery, Endpoint

BATCH = 1000
Kind = AnnouncementQueue.Kind


@dataclass(frozen=True)
class Announcement:
    letter_id: int
    event_type: str
    source: str
    payload: dict[str, Any]


def _events(ids: list[int]) -> list[Announcement]:
    rows = SignatureEvent.objects.filter(pk__in=ids).values(
        "id", "kind", "at", "visible_before", "visible_after", "level_before", "level_after", "letter_id",
        "letter__slug", "signature__public_id",
    )  # fmt: skip
    found = []
    for row in rows:
        event_type = payloads.signature_event_type(
            kind=row["kind"], visible_before=row["visible_before"], visible_after=row["visible_after"]
        )
        if event_type is None:
            continue
        level = row["level_after"] if row["visible_after"] else row["level_before"]
        data = payloads.signature_data(
            slug=row["letter__slug"], public_id=row["signature__public_id"], kind=row["kind"], level=level
        )
        found.append(
            Announcement(row["letter_id"], event_type, f"event:{row['id']}", payloads.payload(
                event_type=event_type, at=row["at"], data=data
            ))
        )  # fmt: skip
    return found


def _versions(ids: list[int]) -> list[Announcement]:
    rows = LetterVersion.objects.filter(pk__in=ids).values(
        "id", "number", "kind", "published_at", "letter_id", "letter__slug"
    )
    return [
        Announcement(
            row["letter_id"],
            "letter.version_published",
            f"version:{row['id']}",
            payloads.payload(
                event_type="letter.version_published",
                at=row["published_at"],
                data=payloads.version_data(slug=row["letter__slug"], number=row["number"], kind=row["kind"]),
            ),
        )
        for row in rows
    ]


def _statuses(queued: list[AnnouncementQueue], now: datetime) -> list[Announcement]:
    letters = {letter.pk: letter for letter in Letter.objects.filter(pk__in=[q.object_id for q in queued])}
    counts = dict(LetterCount.objects.filter(letter_id__in=letters).values_list("letter_id", "public"))
    found = []
    for row in queued:
        letter = letters.get(row.object_id)
        if letter is None:
            continue
        event_type = "letter.closed" if row.status_after == Letter.Status.CLOSED else "letter.published"
        at = (letter.closed_at if event_type == "letter.closed" else letter.opened_at) or now
        data = payloads.letter_data(slug=letter.slug, status=row.status_after, count=counts.get(letter.pk, 0))
        found.append(
            Announcement(
                letter.pk, event_type, f"status:{row.pk}", payloads.payload(event_type=event_type, at=at, data=data)
            )
        )
    return found


def _milestones(ids: list[int]) -> list[Announcement]:
    rows = Milestone.objects.filter(pk__in=ids).values(
        "id", "threshold", "count", "reached_at", "letter_id", "letter__slug"
    )
    return [
        Announcement(
            row["letter_id"],
            "milestone.reached",
            f"milestone:{row['id']}",
            payloads.payload(
                event_type="milestone.reached",
                at=row["reached_at"],
                data=payloads.milestone_data(slug=row["letter__slug"], threshold=row["threshold"], count=row["count"]),
            ),
        )
        for row in rows
    ]


def _alerts(now: datetime) -> list[Announcement]:
    """Claim unannounced trending alerts (SKIP LOCKED) and mark them announced; call inside the batch's transaction.
    The alert's key (a keyed hash of an address or network, or a domain) is never sent."""
    alerts = list(
        TrendingAlert.objects.select_for_update(of=("self",), skip_locked=True)
        .filter(announced_at__isnull=True)
        .order_by("pk")[:BATCH]
    )
    if not alerts:
        return []
    TrendingAlert.objects.filter(pk__in=[a.pk for a in alerts]).update(announced_at=now)
    slugs = dict(Letter.objects.filter(pk__in={a.letter_id for a in alerts}).values_list("pk", "slug"))
    found = []
    for alert in alerts:
        slug = slugs[alert.letter_id]
        data = {
            "letter": slug,
            "alert": alert.public_id,
            "dimension": alert.dimension,
            "counts": {"in_window": alert.count, "threshold": alert.threshold},
            "window_seconds": alert.window_seconds,
            "first_seen_at": alert.first_seen_at.isoformat(),
            "links": {**payloads.letter_links(slug), "dashboard": f"{settings.SITE_URL}/manage/{slug}/"},
        }
        event = payloads.payload(event_type="alert.trending", at=alert.first_seen_at, data=data)
        found.append(Announcement(alert.letter_id, "alert.trending", f"alert:{alert.pk}", event))
    return found


def announcements_fan_out(*, now: datetime | None = None, limit: int = BATCH) -> int:
    """One batch: the number of deliveries created."""
    return _fan_out_batch(now=now or timezone.now(), limit=limit)[1]


def announcements_fan_out_until_done(*, budget_seconds: float = 20.0) -> int:
    """Batches until the queue is empty or the budget is spent (beat's task): the number of deliveries created."""
    deadline = time.monotonic() + budget_seconds
    created = 0
    while True:
        rows, made = _fan_out_batch(now=timezone.now(), limit=BATCH)
        created += made
        if rows < BATCH or time.monotonic() >= deadline:
            return created


def _fan_out_batch(*, now: datetime, limit: int) -> tuple[int, int]:
    """(queue rows and alerts taken, deliveries created)."""
    with transaction.atomic():
        queued = list(AnnouncementQueue.objects.select_for_update(skip_locked=True).order_by("pk")[:limit])
        alerts = _alerts(now)
        if not queued and not alerts:
            return 0, 0
        deliveries: list[Delivery] = []
        if Endpoint.objects.filter(active=True).exists():  # most deployments: none, and nothing to look up
            announcements = [*alerts, *_announcements(queued, now)]
            endpoints = _subscribed({a.letter_id for a in announcements})
            published = set(Letter.objects.published().filter(pk__in=endpoints).values_list("pk", flat=True))
            deliveries = [
                Delivery(
                    endpoint=endpoint,
                    event_type=a.event_type,
                    source=a.source,
                    payload=a.payload,
                    created_at=now,
                    next_attempt_at=now,
                )
                for a in announcements
                if a.letter_id in published
                for endpoint in endpoints.get(a.letter_id, [])
                if a.event_type in endpoint.event_types
            ]
            Delivery.objects.bulk_create(deliveries, ignore_conflicts=True)
        AnnouncementQueue.objects.filter(pk__in=[row.pk for row in queued]).delete()
    return len(queued) + len(alerts), len(deliveries)


def _announcements(queued: list[AnnouncementQueue], now: datetime) -> list[Announcement]:
    by_kind: dict[str, list[AnnouncementQueue]] = defaultdict(list)
    for row in queued:
        by_kind[row.kind].append(row)
    return [
        *_events([r.object_id for r in by_kind[Kind.EVENT]]),
        *_versions([r.object_id for r in by_kind[Kind.VERSION]]),
        *_statuses(by_kind[Kind.STATUS], now),
        *_milestones([r.object_id for r in by_kind[Kind.MILESTONE]]),
    ]


def _subscribed(letter_ids: set[int]) -> dict[int, list[Endpoint]]:
    endpoints: dict[int, list[Endpoint]] = defaultdict(list)
    for endpoint in Endpoint.objects.filter(letter_id__in=letter_ids, active=True).order_by("pk"):
        endpoints[endpoint.letter_id].append(endpoint)
    return dict(endpoints)
