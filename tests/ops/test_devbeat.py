"""Development beat (`make run` without a broker): beat's schedule runs in runserver's serving process, each entry at
its period, a failing task never stopping the others, and never outside runserver or with a broker."""

from datetime import timedelta

import pytest
from celery.schedules import crontab, schedule

from ops.devbeat import beat_tick, dev_beat_wanted, entries_from, schedule_seconds


def test_periods_are_read_from_numbers_timedeltas_and_celery_schedules_but_not_crontabs():
    assert schedule_seconds(2) == 2.0
    assert schedule_seconds(timedelta(minutes=5)) == 300.0
    assert schedule_seconds(schedule(timedelta(seconds=30))) == 30.0
    assert schedule_seconds(crontab(minute=0)) is None


def test_each_entry_runs_at_its_period_and_a_failure_does_not_stop_the_others():
    entries = entries_from(
        {
            "fast": {"task": "x.fast", "schedule": 2.0},
            "slow": {"task": "x.slow", "schedule": 10.0, "kwargs": {"n": 1}},
            "broken": {"task": "x.broken", "schedule": 2.0},
            "nightly": {"task": "x.nightly", "schedule": crontab(hour=3)},
        },
        start=100.0,
    )
    assert [e.name for e in entries] == ["broken", "fast", "slow"]
    calls = []

    def run(entry):
        calls.append((entry.task, dict(entry.kwargs)))
        if entry.task == "x.broken":
            raise RuntimeError("boom")

    assert beat_tick(entries, now=101.0, run=run) == []  # nothing before the first round (server start)
    assert beat_tick(entries, now=102.0, run=run) == ["broken", "fast"]
    assert beat_tick(entries, now=103.0, run=run) == ["slow"]
    assert beat_tick(entries, now=103.5, run=run) == []
    assert beat_tick(entries, now=104.0, run=run) == ["broken", "fast"]
    assert calls[2] == ("x.slow", {"n": 1})
    assert len(calls) == 5


@pytest.mark.parametrize(
    ("argv", "environ", "on", "wanted"),
    [
        (["manage.py", "runserver", "127.0.0.1:8000"], {"RUN_MAIN": "true"}, True, True),
        (["manage.py", "runserver", "--noreload"], {}, True, True),
        (["manage.py", "runserver"], {}, True, False),  # the reloader's parent: its child serves
        (["manage.py", "runserver"], {"RUN_MAIN": "true"}, False, False),  # a broker: the real beat runs
        (["manage.py", "migrate"], {"RUN_MAIN": "true"}, True, False),
        (["pytest"], {}, True, False),
    ],
)
def test_it_starts_only_in_runserver_serving_process_and_only_when_on(settings, argv, environ, on, wanted):
    settings.DEV_BEAT = on
    assert dev_beat_wanted(argv, environ) is wanted


def test_every_scheduled_task_of_the_project_is_registered_and_has_a_fixed_period(settings):
    from config.celery import app

    app.loader.import_default_modules()
    entries = entries_from(settings.CELERY_BEAT_SCHEDULE, start=0.0)
    assert len(entries) == len(settings.CELERY_BEAT_SCHEDULE)
    assert [e.task for e in entries if e.task not in app.tasks] == []
