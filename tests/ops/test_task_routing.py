"""Queues: long jobs go to "bulk", the short time-critical tasks stay on "celery", and the workers consume both."""

import os
import subprocess

import pytest
from django.conf import settings

from config.celery import app
from tests.test_make_run import MAKE_ENV
from tests.test_settings import LEAKY_TEST_ENV, ROOT

BULK = {
    "importing.tasks.import_run",
    "importing.tasks.imports_previews_expire",
    "moderation.tasks.invalidation_run",
    "registry.tasks.dedup_scan_chunk",
    "registry.tasks.duplicates_check_requested",
    "registry.tasks.person_duplicates_check",
    "letters.tasks.letter_reconsent_request",
    "letters.tasks.letter_reconsent_due",
    "letters.tasks.letter_counts_reconcile",
    "letters.tasks.signatures_raw_ip_expire",
}
TIME_CRITICAL = {
    "letters.tasks.outbox_send",
    "letters.tasks.outbox_flush",
    "letters.tasks.outbox_resend_stale",
    "letters.tasks.letter_counts_refresh",
    "letters.tasks.letters_open_due",
    "transparency.tasks.checkpoint_publish",
    "webhooks.tasks.webhooks_fan_out",
    "webhooks.tasks.webhooks_send_due",
    "moderation.tasks.alerts_scan",
    "moderation.tasks.invalidations_resume_stalled",
    "importing.tasks.imports_resume_stalled",
}


def queue_of(task: str) -> str:
    return app.amqp.router.route({}, task)["queue"].name


def test_long_jobs_are_routed_to_the_bulk_queue():
    assert {task: queue_of(task) for task in BULK} == dict.fromkeys(BULK, "bulk")


def test_time_critical_tasks_stay_on_the_default_queue():
    assert {task: queue_of(task) for task in TIME_CRITICAL} == dict.fromkeys(TIME_CRITICAL, "celery")


def test_every_task_of_the_app_has_chosen_its_queue():
    app.loader.import_default_modules()
    ours = {name for name in app.tasks if not name.startswith("celery.")}
    assert ours == BULK | TIME_CRITICAL


def test_every_beat_entry_goes_to_a_queue_a_worker_consumes():
    queues = {entry["task"]: queue_of(entry["task"]) for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert set(queues.values()) == {"celery", "bulk"}
    assert queues["registry.tasks.duplicates_check_requested"] == "bulk"


def test_the_duplicate_check_runs_from_beat_and_a_run_held_up_expires():
    entry = settings.CELERY_BEAT_SCHEDULE["duplicates-check-requested"]
    assert entry == {
        "task": "registry.tasks.duplicates_check_requested",
        "schedule": settings.DEDUP_CHECK_EVERY_SECONDS,
        "options": {"expires": settings.DEDUP_CHECK_EVERY_SECONDS},
    }


def worker_line(target: str, *make_args: str) -> str:
    clean = {k: v for k, v in os.environ.items() if k not in LEAKY_TEST_ENV | MAKE_ENV | {"CONCURRENCY", "QUEUE"}}
    clean["CELERY_BROKER_URL"] = "redis://127.0.0.1:6379/0"
    result = subprocess.run(
        ["make", "-n", "-f", str(ROOT / "Makefile"), target, *make_args],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    [line] = [line for line in result.stdout.splitlines() if " worker " in line and "celery" in line]
    return line


@pytest.mark.skipif(not (ROOT / "Makefile").exists(), reason="no Makefile")
def test_make_worker_and_worker_bulk_consume_one_queue_each():
    default, bulk = worker_line("worker"), worker_line("worker-bulk")
    assert " --queues=celery " in default and " --hostname=celery@%h " in default
    assert " --queues=bulk " in bulk and " --hostname=bulk@%h " in bulk
    assert " --concurrency=2 " in default and " --concurrency=2 " in bulk
    assert " --queues=celery,bulk " in worker_line("worker", "QUEUE=celery,bulk")
