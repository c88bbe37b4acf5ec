"""What the probes and the metrics read: backlogs and lags computed from the database, so every process of a
deployment reports the same numbers (per-process counters would each see a fraction of the traffic)."""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db import connection, transaction
from django.db.models import Count, DateTimeField, Min, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce

from letters.models import Letter, OutboxMessage, Signature, SignatureEvent
from letters.services.outbox import outbox_waiting
from registry.models import DuplicateCheckRequest


@contextmanager
def bounded_queries(seconds: float) -> Iterator[None]:
    """On PostgreSQL, run the enclosed queries in one transaction whose statements are cancelled after `seconds` (a
    slow or locked table must not hold a probe or a scrape). Elsewhere as they are: a transaction on SQLite would
    take its write lock (transaction_mode IMMEDIATE) and queue behind signatures."""
    if connection.vendor != "postgresql":
        yield
        return
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('statement_timeout', %s, true)", [f"{max(int(seconds * 1000), 1)}"])
        yield


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)  # the horizon of a letter never folded


def _age(oldest: datetime | None, now: datetime) -> timedelta:
    return max(now - oldest, timedelta(0)) if oldest else timedelta(0)


@dataclass(frozen=True)
class OutboxState:
    waiting: int
    oldest_waiting_age: timedelta
    undeliverable: int


def outbox_state(*, now: datetime) -> OutboxState:
    """Emails waiting (neither delivered nor undeliverable), how long the oldest has waited since it was written, and
    how many were given up on."""
    waiting = outbox_waiting().aggregate(n=Count("id"), oldest=Min("created_at"))
    undeliverable = OutboxMessage.objects.filter(failed_at__isnull=False).count()
    return OutboxState(
        waiting=waiting["n"], oldest_waiting_age=_age(waiting["oldest"], now), undeliverable=undeliverable
    )


def count_fold_lag(*, now: datetime) -> timedelta:
    """Age of the oldest history event not yet folded into its letter's counts (zero when the fold is up to date).

    The fold takes in events by `at` up to its horizon, `LetterCount.counted_at` per letter (letters.counts): events
    of the letter after it are unfolded, and the first of them by the (letter, at) index is the oldest. Events of
    the last FOLD_MARGIN are always unfolded, so a fold that keeps up shows a lag of a few seconds.
    """
    first_unfolded = (
        SignatureEvent.objects.filter(letter_id=OuterRef("pk"), at__gt=OuterRef("horizon"))
        .order_by("at")
        .values("at")[:1]
    )
    oldest = (
        Letter.objects.annotate(horizon=Coalesce("count__counted_at", Value(EPOCH, output_field=DateTimeField())))
        .annotate(first_unfolded_at=Subquery(first_unfolded))
        .aggregate(oldest=Min("first_unfolded_at"))["oldest"]
    )
    return _age(oldest, now)


def duplicate_check_lag(*, now: datetime) -> timedelta:
    """Age of the oldest duplicate check a confirmation asked for and no run has done (zero when none waits): it
    grows while no worker consumes the bulk queue. The table holds only waiting requests, so this reads a few rows."""
    return _age(DuplicateCheckRequest.objects.aggregate(oldest=Min("requested_at"))["oldest"], now)


@dataclass(frozen=True)
class SigningState:
    created: int
    created_last_minute: int


def signing_state(*, now: datetime) -> SigningState:
    """Signatures ever created, and those created in the minute before `now` (by their history events, which the
    (letter, at) index finds; signatures have no index on their signing time)."""
    letter_ids = list(Letter.objects.values_list("pk", flat=True))
    recent = SignatureEvent.objects.filter(
        letter_id__in=letter_ids, at__gt=now - timedelta(minutes=1), at__lte=now, kind=SignatureEvent.Kind.CREATED
    )
    return SigningState(created=Signature.objects.count(), created_last_minute=recent.count())


def database_deadlocks() -> int | None:
    """Deadlocks PostgreSQL detected in this database since its statistics were reset; None elsewhere."""
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()")
        row = cursor.fetchone()
    return int(row[0]) if row else None
