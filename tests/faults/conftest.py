"""The fault suite's services: private PostgreSQL, Redis and SMTP sink for the session, a fresh app per test.

Run with `make test-faults`. Nothing here touches the shared PostgreSQL or Redis: every service is started on its
own loopback port and temp dir and stopped at the end, failures included. Set FAULTS_KEEP=1 to keep the temp dir.
"""

import json
import logging
import os
import shutil
import tempfile
import time
from pathlib import Path

import pytest

from tests.faults.cluster import ROOT, App, Postgres, Redis, SmtpSink, app_env, missing_binaries

REPORT: list[dict] = []
FAILED_LOGS = ROOT / "var" / "faults-logs"
for noisy in ("httpx", "mail.log"):  # a line per request or SMTP command would bury a failure
    logging.getLogger(noisy).setLevel(logging.WARNING)


@pytest.fixture(scope="session")
def services(request):
    reason = missing_binaries()
    if reason:
        pytest.skip(f"fault suite: {reason}")
    base = Path(tempfile.mkdtemp(prefix="undersigned-faults-"))
    base.chmod(0o755)  # the postgres OS user reaches its data dir through it
    postgres, redis, sink = Postgres(base), Redis(base), SmtpSink()
    request.addfinalizer(lambda: _teardown(base, postgres, redis, sink))
    postgres.start()
    redis.start()
    sink.up()
    migrator = App(base, app_env(postgres, redis, sink, base))
    migrator.manage("migrate", "--noinput", timeout=300)
    return {"base": base, "postgres": postgres, "redis": redis, "sink": sink}


def _teardown(base: Path, postgres: Postgres, redis: Redis, sink: SmtpSink) -> None:
    try:
        sink.down()
    finally:
        try:
            redis.stop()
        finally:
            postgres.stop()
            if not os.environ.get("FAULTS_KEEP"):
                shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def cluster(services, request):
    """The session's services plus the real app (gunicorn, worker, beat) started fresh for this test, logging into
    the test's own directory; sink up and prompt, Redis and PostgreSQL running."""
    base: Path = services["base"] / request.node.name
    base.mkdir()
    postgres, redis, sink = services["postgres"], services["redis"], services["sink"]
    if redis.process is None:
        redis.start()
    sink.stalled, sink.delay = False, 0.0
    sink.up()
    app = App(base, app_env(postgres, redis, sink, base))
    request.node.app = app
    try:
        app.start()
        yield Cluster(postgres, redis, sink, app, request.node.name)
    finally:
        app.stop()
        sink.stalled, sink.delay = False, 0.0
        sink.up()
        if redis.process is None:
            redis.start()
        failed = getattr(request.node, "rep_call", None)
        if failed is not None and failed.failed:
            target = FAILED_LOGS / request.node.name
            shutil.rmtree(target, ignore_errors=True)
            shutil.copytree(base, target, ignore=shutil.ignore_patterns("celerybeat-schedule*"))


class Cluster:
    def __init__(self, postgres: Postgres, redis: Redis, sink: SmtpSink, app: App, name: str) -> None:
        self.postgres, self.redis, self.sink, self.app, self.name = postgres, redis, sink, app, name
        self.started = time.monotonic()

    def report(self, **figures) -> None:
        REPORT.append({"test": self.name, **figures})


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call":
        item.rep_call = report
    return report


def pytest_terminal_summary(terminalreporter):
    if not REPORT:
        return
    terminalreporter.section("fault suite figures")
    for entry in REPORT:
        terminalreporter.write_line(json.dumps(entry, default=str))
    out = ROOT / "var" / "faults-report.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(REPORT, indent=2, default=str))
