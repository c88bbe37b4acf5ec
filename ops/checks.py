"""Readiness checks (django-health-check): database, cache, broker, outbox age and count-fold lag.

Each check has a wall-clock budget of READY_CHECK_TIMEOUT_SECONDS plus the library's one-second grace, and the
synchronous ones run on this module's own threads, so a hung Redis or database costs a probe at most that long:
the view answers when the budget is spent and the stuck thread finishes (or times out) on its own. Messages are
fixed texts: they never carry an address, a host or an exception's words (the library logs those).
"""

import dataclasses
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import ClassVar

from celery import current_app
from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError, connection
from django.utils import timezone
from health_check.base import HealthCheck
from health_check.exceptions import ServiceUnavailable

from ops.selectors import bounded_queries, count_fold_lag, outbox_state

# Shared by every probe of the process and never shut down with a request: a probe waiting on a stuck thread is
# exactly what the budget prevents. A few threads are enough (probes come every few seconds).
PROBE_THREADS = ThreadPoolExecutor(max_workers=8, thread_name_prefix="readyz")


@dataclasses.dataclass
class ReadinessCheck(HealthCheck):
    name: ClassVar[str]

    @property
    def timeout(self) -> timedelta:
        return timedelta(seconds=settings.READY_CHECK_TIMEOUT_SECONDS)

    @property
    def skipped(self) -> bool:
        return False


class DatabaseQueryCheck(ReadinessCheck):
    """Runs `query` on a probe thread's own connection, bounded by the budget, and closes it after (a thread-pool
    thread has no request end to close it, so it would otherwise hold a pooled connection for good)."""

    def run(self) -> None:
        try:
            with bounded_queries(self.timeout.total_seconds()):
                self.query()
        except DatabaseError as exc:
            raise ServiceUnavailable("database did not answer") from exc
        finally:
            connection.close()

    def query(self) -> None:
        raise NotImplementedError


@dataclasses.dataclass
class Database(DatabaseQueryCheck):
    name = "database"

    def query(self) -> None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()


@dataclasses.dataclass
class Cache(ReadinessCheck):
    """Writes, reads and deletes a key of its own in the default cache (local memory without REDIS_URL)."""

    name = "cache"

    def run(self) -> None:
        key, value = f"ops:readyz:{uuid.uuid4().hex}", uuid.uuid4().hex
        try:
            cache.set(key, value, timeout=30)
            answer = cache.get(key)
            cache.delete(key)
        except Exception as exc:
            raise ServiceUnavailable("cache did not answer") from exc
        if answer != value:  # config.cache drops writes and misses reads while Redis is unreachable
            raise ServiceUnavailable("cache did not answer")


@dataclasses.dataclass
class Broker(ReadinessCheck):
    """Connects to the Celery broker; skipped in eager mode (no CELERY_BROKER_URL), where tasks run in process."""

    name = "broker"

    @property
    def skipped(self) -> bool:
        return bool(settings.CELERY_TASK_ALWAYS_EAGER)

    def run(self) -> None:
        if self.skipped:
            return
        seconds = self.timeout.total_seconds()
        try:
            with current_app.connection_for_write(connect_timeout=seconds) as broker:
                # kombu takes a float timeout; celery-types says int.
                broker.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=seconds)  # type: ignore[arg-type]
        except Exception as exc:
            raise ServiceUnavailable("broker did not answer") from exc


@dataclasses.dataclass
class Outbox(DatabaseQueryCheck):
    """The oldest email still waiting was written at most READY_OUTBOX_MAX_AGE_SECONDS ago."""

    name = "outbox"

    def query(self) -> None:
        limit = settings.READY_OUTBOX_MAX_AGE_SECONDS
        if outbox_state(now=timezone.now()).oldest_waiting_age > timedelta(seconds=limit):
            raise ServiceUnavailable(f"oldest waiting email is older than {limit:g} s")


@dataclasses.dataclass
class CountFold(DatabaseQueryCheck):
    """The oldest history event not folded into the counts was written at most READY_FOLD_MAX_LAG_SECONDS ago."""

    name = "count_fold"

    def query(self) -> None:
        limit = settings.READY_FOLD_MAX_LAG_SECONDS
        if count_fold_lag(now=timezone.now()) > timedelta(seconds=limit):
            raise ServiceUnavailable(f"count fold lags more than {limit:g} s")


READINESS_CHECKS: tuple[type[ReadinessCheck], ...] = (Database, Cache, Broker, Outbox, CountFold)
