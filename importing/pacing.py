"""Pacing of import jobs (and of bulk invalidations, moderation.services): full speed while the site is quiet,
yielding to signers while they are signing.

Issue 15 (P7) wants signing during an import at ≥ 0.8 of signing alone, on a machine where the job and the web
workers share the cores and the database. After each batch the job reads how many transactions the database
committed meanwhile (pg_stat_database, the backends' own counters; updated within about a second); when others than
its own committed more than `IMPORT_YIELD_BUSY_COMMITS_PER_SECOND` (default 10) a second (signers, each a few;
beat's few a second do not count as busy) it sleeps `IMPORT_YIELD_FACTOR` times the batch's duration (capped by
`IMPORT_YIELD_MAX_SECONDS`), so that it takes at most 1 / (1 + factor) of its usual share while they are active.
Short transactions keep their locks brief either way. SQLite (tests, development) never waits.
"""

import time

from django.conf import settings
from django.db import connection

OWN_COMMITS = 2  # a batch's own transaction, and reading the counter
_clock = time.monotonic
_sleep = time.sleep


def database_commits() -> int | None:
    """Transactions committed in this database so far (None where the database keeps no such counter)."""
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()")
        row = cursor.fetchone()
    return int(row[0]) if row else None


class Pacer:
    """One per running job: call `after_batch` with each batch's duration; returns the seconds it slept."""

    def __init__(self, *, factor: float | None = None) -> None:
        """`factor`: sleep this many times a batch's duration while others are busy (default IMPORT_YIELD_FACTOR;
        bulk invalidations pass INVALIDATION_YIELD_FACTOR)."""
        self.factor = float(settings.IMPORT_YIELD_FACTOR if factor is None else factor)
        self.max_seconds = float(settings.IMPORT_YIELD_MAX_SECONDS)
        self.busy_rate = float(settings.IMPORT_YIELD_BUSY_COMMITS_PER_SECOND)
        self.seen = database_commits() if self.factor > 0 else None
        self.seen_at = _clock()

    def after_batch(self, seconds: float) -> float:
        if self.seen is None:
            return 0.0
        now = database_commits()
        if now is None:
            return 0.0
        at = _clock()
        others = now - self.seen - OWN_COMMITS
        slept = 0.0
        if others > self.busy_rate * max(at - self.seen_at, seconds, 0.1):
            slept = min(seconds * self.factor, self.max_seconds)
            _sleep(slept)
            now = database_commits() or now  # what others commit while it sleeps says nothing of the next batch
            at = _clock()
        self.seen, self.seen_at = now, at
        return slept
