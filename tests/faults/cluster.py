"""Private services for the fault suite: PostgreSQL, Redis, an SMTP sink, and the real app (gunicorn, Celery worker
and beat) wired to them, each on its own loopback port and temp dir, so faults never touch shared services."""

import asyncio
import contextlib
import email
import functools
import glob
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psycopg

ROOT = Path(__file__).resolve().parents[2]
PYTHON = sys.executable
CONFIRM_LINK = re.compile(r"/confirm/([A-Za-z0-9_-]{20,128})/")
WITHDRAW_LINK = re.compile(r"/withdraw/([A-Za-z0-9_-]{20,128})/")
# Variables the app reads that the test environment (CI's `make test`) may have set for another database or broker.
APP_VARIABLES = (
    "DATABASE_URL",
    "REDIS_URL",
    "CELERY_BROKER_URL",
    "EMAIL_URL",
    "DJANGO_SETTINGS_MODULE",
    "GUNICORN_BIND",
    "GUNICORN_WORKERS",
    "GUNICORN_ACCESS_LOG",
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.3):
            return True
    except OSError:
        return False


def wait_for(predicate: Callable[[], object], timeout: float, interval: float = 0.2, what: str = "condition"):
    """Poll until `predicate()` is truthy and return its value; raise TimeoutError naming `what`."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} not reached within {timeout:.0f} s")
        time.sleep(interval)


def missing_binaries() -> str:
    """Why the suite cannot run here, or '' when it can."""
    if not pg_bindir():
        return "needs PostgreSQL server binaries (initdb, pg_ctl under /usr/lib/postgresql/*/bin or on PATH)"
    if not shutil.which("redis-server"):
        return "needs redis-server on PATH"
    if os.geteuid() == 0:
        try:
            import pwd

            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root needs a `postgres` OS user to run initdb and pg_ctl"
        if not shutil.which("runuser"):
            return "running as root needs runuser to run PostgreSQL as the postgres user"
    return ""


def pg_bindir() -> str:
    for candidate in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if os.path.exists(os.path.join(candidate, "initdb")):
            return candidate
    initdb = shutil.which("initdb")
    return os.path.dirname(initdb) if initdb else ""


class Postgres:
    """A throwaway cluster: initdb into the temp dir, fsync off, TCP on its own port and a socket in the temp dir."""

    def __init__(self, base: Path) -> None:
        self.bindir = pg_bindir()
        self.base = base
        self.data = base / "pgdata"
        self.socket_dir = base / "pgsock"
        self.log = base / "postgres.log"
        self.port = free_port()
        self.dbname = "undersigned_faults"
        self.url = f"postgres://postgres@127.0.0.1:{self.port}/{self.dbname}"

    def _as_owner(self, *args: str) -> list[str]:
        command = [os.path.join(self.bindir, args[0]), *args[1:]]
        return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command

    def _run(self, *args: str, timeout: float = 60) -> None:
        """Run a PostgreSQL program; its output goes to the server log, never to a pipe the postmaster would keep
        open (pg_ctl start and restart hand their stdout to the server)."""
        with open(self.log, "ab") as log:
            subprocess.run(
                self._as_owner(*args),
                check=True,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                timeout=timeout,
                cwd="/",
            )

    def start(self) -> None:
        self.data.mkdir()
        self.socket_dir.mkdir()
        self.log.touch()
        if os.geteuid() == 0:
            for path in (self.data, self.socket_dir, self.log):
                shutil.chown(path, "postgres", "postgres")
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync")
        options = (
            f"-p {self.port} -k {self.socket_dir} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200 -c log_min_messages=warning "
            "-c shared_buffers=64MB"
        )
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", "-t", "60", "start")
        self._run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", self.dbname)

    def restart(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-m", "fast", "-w", "-t", "60", "restart")

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            with contextlib.suppress(subprocess.SubprocessError):
                self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "-t", "30", "stop")

    def connect(self) -> psycopg.Connection:
        return psycopg.connect(
            host="127.0.0.1", port=self.port, user="postgres", dbname=self.dbname, autocommit=True, connect_timeout=5
        )

    def query(self, sql: str, params: Iterable = ()) -> list[tuple]:
        with self.connect() as conn:
            return conn.execute(sql, tuple(params)).fetchall()


class Redis:
    """Broker and cache; no persistence, so a restart comes back empty as a replaced instance would."""

    def __init__(self, base: Path) -> None:
        self.base = base
        self.port = free_port()
        self.log = base / "redis.log"
        self.process: subprocess.Popen | None = None

    def url(self, db: int) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--bind",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.base),
                "--logfile",
                str(self.log),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for(lambda: port_open(self.port), 20, what="redis-server listening")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        self.process = None


@dataclass
class Delivery:
    to: str
    message_id: str
    subject: str
    confirm_token: str | None
    withdraw_token: str | None
    at: float


class _SinkHandler:
    def __init__(self, sink: "SmtpSink") -> None:
        self.sink = sink

    async def handle_DATA(self, server, session, envelope) -> str:
        while self.sink.stalled:
            await asyncio.sleep(0.05)
        if self.sink.delay:
            await asyncio.sleep(self.sink.delay)
        self.sink.record(envelope.content)
        return "250 Message accepted for delivery"


class SmtpSink:
    """An SMTP server in this process that records every message; it can go down (stop listening), come back on
    the same port, stall (hold every DATA until released) or answer slowly."""

    def __init__(self) -> None:
        self.port = free_port()
        self.deliveries: list[Delivery] = []
        self.lock = threading.Lock()
        self.stalled = False
        self.delay = 0.0
        self.controller = None

    def up(self) -> None:
        from aiosmtpd.controller import Controller

        if self.controller is None:
            self.controller = Controller(_SinkHandler(self), hostname="127.0.0.1", port=self.port, ready_timeout=10)
            self.controller.start()

    def down(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def record(self, content: bytes) -> None:
        message = email.message_from_bytes(content)
        text = ""
        for part in message.walk():
            if part.get_content_type() == "text/plain":
                text = part.get_payload(decode=True).decode("utf-8", "replace")
                break
        confirm, withdraw = CONFIRM_LINK.search(text), WITHDRAW_LINK.search(text)
        delivery = Delivery(
            to=str(message["To"]).strip().lower(),
            message_id=str(message["Message-ID"]).strip(),
            subject=str(message["Subject"]),
            confirm_token=confirm.group(1) if confirm else None,
            withdraw_token=withdraw.group(1) if withdraw else None,
            at=time.monotonic(),
        )
        with self.lock:
            self.deliveries.append(delivery)

    def to(self, addresses: Iterable[str]) -> dict[str, list[Delivery]]:
        """Deliveries to each of `addresses` (lowercase), in arrival order."""
        wanted = {a.lower() for a in addresses}
        found: dict[str, list[Delivery]] = {a: [] for a in wanted}
        with self.lock:
            for delivery in self.deliveries:
                if delivery.to in wanted:
                    found[delivery.to].append(delivery)
        return found


@dataclass
class Process:
    name: str
    command: list[str]
    log: Path
    popen: subprocess.Popen | None = None

    def running(self) -> bool:
        return self.popen is not None and self.popen.poll() is None


@dataclass
class App:
    """gunicorn (config/gunicorn.py, production settings, 2 workers), a Celery worker per queue and beat."""

    base: Path
    env: dict[str, str]
    port: int = field(default_factory=free_port)
    processes: dict[str, Process] = field(default_factory=dict)
    restarts: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __post_init__(self) -> None:
        self.env = {**self.env, "GUNICORN_BIND": f"127.0.0.1:{self.port}", "GUNICORN_WORKERS": "2"}
        self.processes = {
            "server": Process(
                "server",
                [PYTHON, "-m", "gunicorn", "-c", "config/gunicorn.py", "config.wsgi"],
                self.base / "server.log",
            ),
            # One worker for each queue, as in production (the Makefile's `worker` and `worker-bulk`).
            "worker": Process(
                "worker", [PYTHON, "-m", "celery", *worker_arguments("celery")], self.base / "worker.log"
            ),
            "worker-bulk": Process(
                "worker-bulk", [PYTHON, "-m", "celery", *worker_arguments("bulk")], self.base / "worker-bulk.log"
            ),
            "beat": Process(
                "beat",
                [
                    PYTHON,
                    "-m",
                    "celery",
                    "-A",
                    "config",
                    "beat",
                    "--loglevel=INFO",
                    f"--schedule={self.base / 'celerybeat-schedule'}",
                ],
                self.base / "beat.log",
            ),
        }

    def start(self, *names: str) -> None:
        for name in names or tuple(self.processes):
            process = self.processes[name]
            if process.running():
                continue
            with open(process.log, "ab") as log:
                log.write(f"\n==== start {name} at {time.time():.3f}\n".encode())
                log.flush()
                # Own session, so a kill reaches the pool children too.
                process.popen = subprocess.Popen(
                    process.command,
                    cwd=ROOT,
                    env=self.env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
        if "server" in (names or tuple(self.processes)):
            wait_for(self._serves, 40, 0.3, "gunicorn answering")
        for worker in ("worker", "worker-bulk"):
            if worker in (names or tuple(self.processes)):
                wait_for(functools.partial(self.worker_ready, worker), 60, 0.3, f"celery {worker} ready")

    def _serves(self) -> bool:
        if not self.processes["server"].running():
            raise RuntimeError(f"gunicorn exited:\n{self.tail('server')}")
        try:
            return httpx.get(f"{self.url}/api/v1/letters/", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def worker_ready(self, name: str = "worker") -> bool:
        process = self.processes[name]
        if not process.running():
            raise RuntimeError(f"celery {name} exited:\n{self.tail(name)}")
        text = process.log.read_text(errors="replace")
        return " ready." in text[text.rfind(f"==== start {name} ") :]

    def stop(self, *names: str, sig: int = signal.SIGTERM, timeout: float = 20) -> None:
        for name in names or tuple(self.processes):
            process = self.processes[name]
            if process.popen is None:
                continue
            if process.popen.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.popen.pid, sig)
                try:
                    process.popen.wait(timeout)
                except subprocess.TimeoutExpired:
                    with contextlib.suppress(ProcessLookupError):
                        os.killpg(process.popen.pid, signal.SIGKILL)
                    process.popen.wait(10)
            # Pool children of a SIGKILLed worker may outlive it for a moment.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.popen.pid, signal.SIGKILL)
            process.popen = None

    def kill(self, name: str) -> None:
        self.stop(name, sig=signal.SIGKILL)

    def log_text(self, name: str) -> str:
        return self.processes[name].log.read_text(errors="replace")

    def tail(self, name: str, lines: int = 40) -> str:
        return "\n".join(self.log_text(name).splitlines()[-lines:])

    def grep(self, pattern: str, names: Iterable[str] = ("server", "worker", "worker-bulk", "beat")) -> list[str]:
        """Log lines matching `pattern` (a regex), prefixed with the process name."""
        regex = re.compile(pattern)
        return [f"{n}: {line}" for n in names for line in self.log_text(n).splitlines() if regex.search(line)]

    def manage(self, *args: str, timeout: float = 120) -> str:
        done = subprocess.run(
            [PYTHON, "manage.py", *args], cwd=ROOT, env=self.env, capture_output=True, text=True, timeout=timeout
        )
        if done.returncode:
            raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
        return done.stdout


def worker_arguments(queue: str) -> list[str]:
    """The worker of `queue` as `make worker` (QUEUE=celery) or `make worker-bulk` (bulk) starts it (see the
    Makefile's CELERY_WORKER_FLAGS), concurrency 2."""
    flags = os.environ.get("FAULTS_WORKER_FLAGS")
    if flags is None:
        flags = make_variable("CELERY_WORKER_FLAGS")
    return [
        "-A", "config", "worker", "--loglevel=INFO", f"--queues={queue}", f"--hostname={queue}@%h", "--concurrency=2",
        *flags.split(),
    ]  # fmt: skip


def make_variable(name: str) -> str:
    """A variable's value as the Makefile defines it, so the suite runs the worker exactly as `make worker` does."""
    makefile = (ROOT / "Makefile").read_text()
    match = re.search(rf"^{name}\s*[:?]?=\s*(.*)$", makefile, re.MULTILINE)
    return match.group(1).strip() if match else ""


def app_env(postgres: Postgres, redis: Redis, sink: SmtpSink, base: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in APP_VARIABLES}
    env.update(
        # FAULTS_SETTINGS runs the app with another settings module, e.g. to show that a setting is what holds.
        DJANGO_SETTINGS_MODULE=os.environ.get("FAULTS_SETTINGS", "config.settings"),
        DEBUG="0",
        SECRET_KEY="faults-only-secret-key-0123456789abcdefghijklmnopqrstuvwxyz-faults",
        ALLOWED_HOSTS="127.0.0.1",
        SECURE_SSL_REDIRECT="0",
        SECURE_COOKIES="0",
        DATABASE_URL=postgres.url,
        REDIS_URL=redis.url(1),
        CELERY_BROKER_URL=redis.url(0),
        EMAIL_URL=f"smtp://127.0.0.1:{sink.port}",
        EMAIL_TIMEOUT="5",
        SITE_URL="http://127.0.0.1:8000",
        LOG_LEVEL="INFO",
        GUNICORN_LOG_LEVEL="info",
        GUNICORN_ACCESS_LOG=str(base / "access.log"),
        GUNICORN_TIMEOUT="60",
        API_ANON_RATE="100000000/minute",
        SIGN_RATE_IP_BURST="100000000",
        SIGN_RATE_IP_SUSTAINED="100000000",
        SIGN_RATE_DOMAIN_BURST="100000000",
        SIGN_RATE_DOMAIN_SUSTAINED="100000000",
        # Short outbox retry and resend periods, so a recovery fits in a test (the defaults are minutes).
        OUTBOX_RETRY_BASE_SECONDS="1",
        OUTBOX_RETRY_MAX_SECONDS="8",
        OUTBOX_RESEND_EVERY_SECONDS="5",
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


CREATE_LETTER = """
from letters.models import Letter
from letters.services.letters import letter_create, letter_status_set
for slug in {slugs!r}:
    if not Letter.objects.filter(slug=slug).exists():
        letter = letter_create(slug=slug, title="Fault suite " + slug, body="We, the undersigned, hold.")
        letter_status_set(letter=letter, status=Letter.Status.OPEN)
"""


def create_open_letters(app: App, slugs: list[str]) -> None:
    app.manage("shell", "-c", CREATE_LETTER.format(slugs=slugs))


@dataclass
class Result:
    kind: str
    key: str
    started: float
    ended: float
    status: int | None
    error: str = ""
    content_type: str = ""
    body: str = ""

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


def drive(
    url: str,
    jobs: Iterable[tuple[str, str, str, dict | None]],
    *,
    clients: int,
    seconds: float,
    on_result: Callable[[Result], None] | None = None,
) -> list[Result]:
    """Run (kind, key, method+path, json) jobs on `clients` threads until they run out or `seconds` pass.

    Jobs come from one shared iterator (it may be a generator feeding on earlier results); every answer or transport
    error is recorded with its monotonic start and end times.
    """
    iterator = iter(jobs)
    lock = threading.Lock()
    results: list[Result] = []
    deadline = time.monotonic() + seconds

    def next_job():
        with lock:
            return next(iterator, None)

    def client() -> None:
        with httpx.Client(base_url=url, timeout=httpx.Timeout(15.0, connect=3.0)) as http:
            while time.monotonic() < deadline:
                job = next_job()
                if job is None:
                    return
                kind, key, target, payload = job
                method, path = target.split(" ", 1)
                started = time.monotonic()
                try:
                    response = http.request(method, path, json=payload)
                    result = Result(
                        kind,
                        key,
                        started,
                        time.monotonic(),
                        response.status_code,
                        content_type=response.headers.get("content-type", ""),
                        body=response.text[:300],
                    )
                except httpx.HTTPError as exc:
                    result = Result(kind, key, started, time.monotonic(), None, error=f"{type(exc).__name__}: {exc}")
                with lock:
                    results.append(result)
                if on_result:
                    on_result(result)

    threads = [threading.Thread(target=client, daemon=True) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(seconds + 30)
    return results


def sign_job(slug: str, address: str, name: str | None = None) -> tuple[str, str, str, dict]:
    payload = {"name": name or f"Signer {address.split('@')[0]}", "email": address}
    return ("sign", address, f"POST /api/v1/letters/{slug}/signatures/", payload)


def statuses(results: Iterable[Result]) -> dict[str, int]:
    counts: dict[str, int] = defaultdict(int)
    for result in results:
        counts[str(result.status) if result.status is not None else result.error.split(":")[0]] += 1
    return dict(sorted(counts.items()))
