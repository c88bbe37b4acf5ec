"""Prometheus metrics computed from the database at scrape time.

gunicorn runs several processes, each seeing a fraction of the requests, so counters kept in a process would lie;
a custom Collector reads the shared state instead, on its own registry (no per-process default collectors).
"""

from collections.abc import Iterator

from django.conf import settings
from django.utils import timezone
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from ops.selectors import (
    bounded_queries,
    count_fold_lag,
    database_deadlocks,
    duplicate_check_lag,
    outbox_state,
    signing_state,
)

PREFIX = "undersigned"


class DatabaseCollector(Collector):
    def collect(self) -> Iterator[Metric]:
        now = timezone.now()
        with bounded_queries(settings.METRICS_QUERY_TIMEOUT_SECONDS):
            signing = signing_state(now=now)
            outbox = outbox_state(now=now)
            fold_lag = count_fold_lag(now=now)
            check_lag = duplicate_check_lag(now=now)
            deadlocks = database_deadlocks()
        yield CounterMetricFamily(
            f"{PREFIX}_signatures_created", "Signatures ever created (every status).", value=signing.created
        )
        yield GaugeMetricFamily(
            f"{PREFIX}_signatures_created_last_minute",
            "Signatures created in the 60 seconds before the scrape.",
            value=signing.created_last_minute,
        )
        yield GaugeMetricFamily(
            f"{PREFIX}_outbox_backlog", "Emails waiting: neither delivered nor undeliverable.", value=outbox.waiting
        )
        yield GaugeMetricFamily(
            f"{PREFIX}_outbox_oldest_waiting_age_seconds",
            "Seconds since the oldest waiting email was written (0 when none waits).",
            value=outbox.oldest_waiting_age.total_seconds(),
        )
        yield CounterMetricFamily(
            f"{PREFIX}_outbox_undeliverable",
            "Emails given up on: attempts used up or the address refused for good.",
            value=outbox.undeliverable,
        )
        yield GaugeMetricFamily(
            f"{PREFIX}_count_fold_lag_seconds",
            "Age of the oldest signature event not yet folded into the letter counts (0 when up to date).",
            value=fold_lag.total_seconds(),
        )
        yield GaugeMetricFamily(
            f"{PREFIX}_duplicate_check_lag_seconds",
            "Age of the oldest duplicate check a confirmation asked for and no run has done yet (0 when none waits).",
            value=check_lag.total_seconds(),
        )
        if deadlocks is not None:
            yield CounterMetricFamily(
                f"{PREFIX}_database_deadlocks",
                "Deadlocks PostgreSQL detected in this database (pg_stat_database).",
                value=deadlocks,
            )


registry = CollectorRegistry(auto_describe=False)
registry.register(DatabaseCollector())


def metrics_render() -> bytes:
    """The Prometheus text exposition of every metric; raises DatabaseError when the database cannot answer."""
    return generate_latest(registry)
