"""The signing-first worker (config/gunicorn_worker.py): which requests go first, the lane rule of its thread pool,
and the real worker under gunicorn serving a queued signature before the reads queued ahead of it."""

import itertools
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from config.gunicorn_worker import PRESSURE_WINDOW, LanePool, is_first, is_read

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(
    ("head", "first"),
    [
        (b"POST /api/v1/letters/restore-access/signatures/ HTTP/1.1\r\nHost: x\r\n", True),
        (b"POST /api/v1/letters/restore-access/signatures/?lang=en HTTP/1.1\r\n", True),
        (b"POST /letters/restore-access/sign/ HTTP/1.1\r\n", True),
        (b"GET /healthz HTTP/1.1\r\n", True),
        (b"GET /readyz/ HTTP/1.1\r\n", True),
        (b"GET /api/v1/letters/restore-access/signatures/ HTTP/1.1\r\n", False),  # the list, a read
        (b"POST /api/v1/signatures/confirm/ HTTP/1.1\r\n", False),
        (b"POST /api/v1/letters/restore-access/signatures/x/ HTTP/1.1\r\n", False),
        (b"POST /api/v1/letters/a/b/signatures/ HTTP/1.1\r\n", False),
        (b"GET /letters/restore-access/sign/ HTTP/1.1\r\n", False),  # the form itself, a read
        (b"POST /api/v1/letters/restore-acc", False),  # not all there yet
        (b"GET /healthzzz HTTP/1.1\r\n", False),
        (b"", False),
    ],
)
def test_new_signatures_and_health_checks_go_first(head, first):
    assert is_first(head) is first


@pytest.mark.parametrize(
    ("head", "read"),
    [
        (b"GET /letters/restore-access/ HTTP/1.1\r\n", True),
        (b"HEAD /api/v1/letters/restore-access/stats/ HTTP/1.1\r\n", True),
        (b"", True),  # a new connection whose request has not arrived: most are reads
        (b"POST /api/v1/signatures/confirm/ HTTP/1.1\r\n", False),
        (b"POST /letters/restore-access/confirm/ HTTP/1.1\r\n", False),
        (b"DELETE /api/v1/manage/letters/a/imports/x/ HTTP/1.1\r\n", False),
        (b"GETS / HTTP/1.1\r\n", False),
    ],
)
def test_reads_and_requests_not_yet_arrived_are_served_as_reads(head, read):
    assert is_read(head) is read


def _running(pool: LanePool, gate: threading.Event):
    """Occupy the pool's one thread until `gate` is set; returns once it is running."""
    started = threading.Event()
    future = pool.submit(lambda: started.set() or gate.wait())
    assert started.wait(5)
    return future


def _order_of(pool: LanePool, items: list[tuple[str, bool]], *, reads: tuple[str, ...] = ()) -> list[str]:
    """Queue `items` behind a blocked single thread, release it and return the order they ran in (names in `reads`
    are submitted as reads)."""
    gate, ran = threading.Event(), []
    blocker = _running(pool, gate)
    futures = [pool.submit(ran.append, name, first=first, read=name in reads) for name, first in items]
    gate.set()
    for future in [blocker, *futures]:
        future.result(timeout=5)
    return ran


def test_the_first_lane_is_served_first_but_the_rest_gets_one_in_every_ratio_plus_one():
    pool = LanePool(1, ratio=2, rest_share=1)
    items = [("r1", False), ("r2", False), ("r3", False)] + [(f"f{n}", True) for n in range(1, 6)]
    assert _order_of(pool, items) == ["f1", "f2", "r1", "f3", "f4", "r2", "f5", "r3"]
    pool.shutdown()


def test_in_the_rest_reads_go_before_other_requests_but_those_get_one_in_every_ratio_plus_one():
    pool = LanePool(1, ratio=2, rest_share=1)
    items = [("c1", False), ("c2", False)] + [(f"r{n}", False) for n in range(1, 6)] + [("f1", True)]
    reads = tuple(f"r{n}" for n in range(1, 6))
    assert _order_of(pool, items, reads=reads) == ["f1", "r1", "r2", "c1", "r3", "r4", "c2", "r5"]
    pool.shutdown()


def test_with_ratio_zero_reads_and_others_are_first_come_first_served():
    pool = LanePool(1, ratio=0, rest_share=1)
    items = [("c1", False), ("r1", False), ("c2", False), ("r2", False)]
    assert _order_of(pool, items, reads=("r1", "r2")) == ["c1", "r1", "c2", "r2"]
    pool.shutdown()


def _peak_concurrency(pool: LanePool, count: int) -> int:
    """Run `count` rest items that each take 50 ms and return how many ran at once at most."""
    running, peak, lock = [0], [0], threading.Lock()

    def item() -> None:
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        time.sleep(0.05)
        with lock:
            running[0] -= 1

    for future in [pool.submit(item) for _ in range(count)]:
        future.result(timeout=5)
    return peak[0]


def test_while_signatures_are_served_the_rest_gets_at_most_its_threads_and_all_of_them_otherwise():
    pool = LanePool(4, ratio=8, rest_threads=1)
    assert _peak_concurrency(pool, 4) == 4  # no signature in sight: every thread
    gate = threading.Event()
    started = threading.Event()
    signing = pool.submit(lambda: started.set() or gate.wait(), first=True)
    assert started.wait(5)
    assert _peak_concurrency(pool, 3) == 1
    gate.set()
    signing.result(timeout=5)
    assert _peak_concurrency(pool, 4) == 4
    pool.shutdown()


def _rest_starts(pool: LanePool, count: int, seconds: float) -> list[float]:
    """Run `count` rest items of `seconds` each and return the instants they started."""
    starts: list[float] = []
    for future in [pool.submit(lambda: starts.append(time.monotonic()) or time.sleep(seconds)) for _ in range(count)]:
        future.result(timeout=5)
    return starts


def test_while_signing_is_pressed_the_rest_waits_after_each_item_so_it_keeps_busy_at_most_its_share():
    pool = LanePool(4, ratio=8, rest_threads=1, rest_share=0.25, busy_first=1)
    gate, started = threading.Event(), threading.Event()
    signing = pool.submit(lambda: started.set() or gate.wait(), first=True)
    assert started.wait(5)
    starts = _rest_starts(pool, 4, 0.02)
    # 20 ms of work at a quarter share: each next item waits 60 ms more, so starts are 80 ms apart or more
    assert min(later - earlier for earlier, later in itertools.pairwise(starts)) >= 0.079
    gate.set()
    signing.result(timeout=5)
    pool.shutdown()


def test_under_a_trickle_of_signatures_the_rest_is_capped_in_threads_but_not_paused():
    pool = LanePool(4, ratio=8, rest_threads=1, rest_share=0.25)  # pressed from two running signatures
    gate, started = threading.Event(), threading.Event()
    signing = pool.submit(lambda: started.set() or gate.wait(), first=True)
    assert started.wait(5)
    starts = _rest_starts(pool, 3, 0.02)
    assert starts[-1] - starts[0] < 0.1  # one after the other, 20 ms each, without the 60 ms pauses
    gate.set()
    signing.result(timeout=5)
    pool.shutdown()


def test_the_time_limit_outlasts_the_pressure_by_its_window_and_then_lifts():
    pool = LanePool(4, ratio=8, rest_threads=1, rest_share=0.25, busy_first=1)
    pool.submit(lambda: None, first=True).result(timeout=5)  # pressed while it ran; nothing signs now
    starts = _rest_starts(pool, 3, 0.02)
    assert min(later - earlier for earlier, later in itertools.pairwise(starts)) >= 0.079
    time.sleep(PRESSURE_WINDOW)
    assert _peak_concurrency(pool, 4) == 4
    starts = _rest_starts(pool, 3, 0.02)
    assert starts[-1] - starts[0] < 0.1
    pool.shutdown()


def test_ratio_zero_is_first_come_first_served():
    pool = LanePool(1, ratio=0)
    items = [("r1", False), ("f1", True), ("r2", False), ("f2", True)]
    assert _order_of(pool, items) == ["r1", "f1", "r2", "f2"]
    pool.shutdown()


def test_errors_reach_the_future_and_shutdown_cancels_what_waits():
    pool = LanePool(1, ratio=8)
    failing = pool.submit(lambda: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        failing.result(timeout=5)
    gate = threading.Event()
    running = _running(pool, gate)
    waiting = pool.submit(lambda: "never", first=True)
    pool.shutdown(wait=False, cancel_futures=True)
    gate.set()
    assert running.result(timeout=5) is True
    assert waiting.cancelled()
    with pytest.raises(RuntimeError):
        pool.submit(lambda: None)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_under_gunicorn_a_signature_queued_behind_reads_is_served_before_them(tmp_path):
    """One worker, one thread, each request 200 ms: six reads queue, then a signature; it is answered right after
    the read already running, not last."""
    port = _free_port()
    app = tmp_path / "lanes_app.py"
    app.write_text(
        "import time\n"
        "def app(environ, start_response):\n"
        "    time.sleep(0.2)\n"
        "    start_response('200 OK', [('Content-Type', 'text/plain')])\n"
        "    return [environ['PATH_INFO'].encode()]\n"
    )
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--worker-class", "config.gunicorn_worker.SigningFirstWorker",
         "--workers", "1", "--threads", "1", "--bind", f"127.0.0.1:{port}", "--chdir", str(tmp_path),
         "--pythonpath", str(ROOT), "lanes_app:app"],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    break
            except OSError:
                assert time.monotonic() < deadline, "gunicorn did not start"
                time.sleep(0.1)
        done: list[str] = []
        clients = [httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) for _ in range(7)]
        for client in clients:
            client.get("/warm")  # every connection is kept alive, so its next request is peeked when it arrives

        def call(client: httpx.Client, method: str, path: str) -> None:
            client.request(method, path)
            done.append(f"{method} {path}")

        with ThreadPoolExecutor(7) as pool:
            for n, client in enumerate(clients[:6]):
                pool.submit(call, client, "GET", f"/api/v1/letters/x/signatures/?page={n}")
                time.sleep(0.05)
            pool.submit(call, clients[6], "POST", "/api/v1/letters/x/signatures/")
        # First come, first served would answer it seventh; a loaded machine may let one more read in ahead of it.
        assert done.index("POST /api/v1/letters/x/signatures/") <= 2
    finally:
        server.terminate()
        server.wait(timeout=10)
