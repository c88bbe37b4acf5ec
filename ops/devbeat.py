"""Beat for `make run`: without a broker there is no Celery beat, so nothing would open a scheduled letter at its
time, scan for trending alerts, fan out and retry webhooks, retry email, fold counts or expire raw IPs. In
development (`DEV_BEAT`, on with DEBUG and no broker) `runserver`'s serving process runs this thread instead: every
entry of CELERY_BEAT_SCHEDULE, at its period, in process (`Task.apply`), one at a time. Never in production (a broker
means a real beat), never in tests or other management commands.
"""

import logging
import os
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import close_old_connections

logger = logging.getLogger(__name__)
FIRST_RUN_AFTER_SECONDS = 3.0  # let the server start before the first round


@dataclass
class Entry:
    name: str
    task: str
    every: float
    args: Sequence[Any] = ()
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    due: float = 0.0


def schedule_seconds(schedule: Any) -> float | None:
    """A beat entry's period in seconds: a number, a timedelta or a celery `schedule`; None for what has no fixed
    period (a crontab), which development beat leaves out."""
    if isinstance(schedule, int | float):
        return float(schedule)
    if isinstance(schedule, timedelta):
        return schedule.total_seconds()
    run_every = getattr(schedule, "run_every", None)
    if isinstance(run_every, timedelta) and type(schedule).__name__ == "schedule":
        return run_every.total_seconds()
    return None


def entries_from(schedule: Mapping[str, Mapping[str, Any]], *, start: float) -> list[Entry]:
    entries = []
    for name, spec in sorted(schedule.items()):
        every = schedule_seconds(spec["schedule"])
        if every is None:
            logger.info("Development beat leaves out %s (no fixed period)", name)
            continue
        entries.append(Entry(name, spec["task"], every, spec.get("args", ()), spec.get("kwargs", {}),
                             due=start + min(every, FIRST_RUN_AFTER_SECONDS)))  # fmt: skip
    return entries


def beat_tick(entries: list[Entry], *, now: float, run: Callable[[Entry], None]) -> list[str]:
    """Run every entry that is due at `now` and schedule its next run; returns the names run."""
    ran = []
    for entry in entries:
        if now >= entry.due:
            entry.due = now + entry.every
            try:
                run(entry)
            except Exception:  # one failing task must not stop the others
                logger.exception("Development beat: %s failed", entry.name)
            ran.append(entry.name)
    return ran


def _run(entry: Entry) -> None:
    from config.celery import app

    try:
        result = app.tasks[entry.task].apply(args=tuple(entry.args), kwargs=dict(entry.kwargs))
        if result.failed():
            logger.error("Development beat: %s failed: %r", entry.name, result.result)
    finally:
        close_old_connections()  # as a worker does after each task


def dev_beat_wanted(argv: Sequence[str], environ: Mapping[str, str]) -> bool:
    """In `runserver`'s serving process (the reloader's child, or the only process with --noreload)."""
    if not settings.DEV_BEAT or "runserver" not in argv:
        return False
    return environ.get("RUN_MAIN") == "true" or "--noreload" in argv


def dev_beat_start() -> threading.Thread:
    def loop() -> None:
        from config.celery import app

        time.sleep(FIRST_RUN_AFTER_SECONDS)  # after django.setup(): importing tasks sets Django up again otherwise
        app.loader.import_default_modules()  # every app's tasks registered
        entries = entries_from(settings.CELERY_BEAT_SCHEDULE, start=time.monotonic())
        logger.warning("Development beat: %d tasks on their schedules in this process (DEV_BEAT)", len(entries))
        while True:
            time.sleep(0.5)
            beat_tick(entries, now=time.monotonic(), run=_run)

    thread = threading.Thread(target=loop, name="dev-beat", daemon=True)
    thread.start()
    return thread


def dev_beat_maybe_start() -> threading.Thread | None:
    import sys

    return dev_beat_start() if dev_beat_wanted(sys.argv, os.environ) else None
