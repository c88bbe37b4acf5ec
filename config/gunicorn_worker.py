"""Signing first: gunicorn's threaded worker, with a request queue that serves new signatures before anything else.

When a letter is everywhere, readers and confirmation clicks outnumber new signatures many times over, and on a
saturated server each request waits its turn behind the others. A new signature is the one request that cannot be
served from a cache or retried later by someone who already signed, so this worker keeps two lanes:

- first: POSTs that sign (the API's `/api/v1/letters/<slug>/signatures/`, the form's `/letters/<slug>/sign/`) and the
  health checks (`/healthz`, `/readyz`, so a load balancer does not drop a busy server);
- rest: everything else; within it, reads (GET and HEAD, and requests whose first bytes are not known yet) before
  the other requests (confirmations, withdrawals, the organizers' writes), but after `ratio` reads in a row while
  others wait, one of those. The letter's page is its sign page: a reader served fast may sign, while someone whose
  confirmation waits has signed already (their pending signature is stored).

A free thread takes the oldest request of the first lane, except that after `ratio` first-lane requests in a row while
others wait (and their pause, below, is over) it takes one of the rest. While signatures are being served or wait, at
most `rest_threads` threads (one in eight by default) serve the rest. And for `PRESSURE_WINDOW` seconds after signing
was last seen pressed (at least `busy_first` signatures being served or waiting: a quarter of the threads, two at least,
by default), the rest may keep busy only a `rest_share` of the time (a quarter by default): after a rest item of t
seconds the next waits t × (1 − share) / share, at most `MAX_REST_PAUSE`. A cap on threads alone does not cap time: one
thread that always has a cached read or a confirmation to serve keeps the interpreter lock (and a core) as busy as eight
would, and signing threads waking from a commit wait for it. The window keeps the limit on between two closed-loop
signatures (without it, measured P8 fell from 0.675 to 0.469). Reads and confirmations slow down under overload but are
never starved; under a trickle of signatures they are not paused at all, with no signature in sight every thread serves
them, and with nothing queued nothing changes.

The lane is chosen from the request line, peeked (not read) from the socket when the connection becomes readable;
a request whose first bytes have not arrived yet (gunicorn queues a new connection at once), or any TLS connection,
goes to the rest lane as a read.
`GUNICORN_SIGNING_FIRST_RATIO` sets the ratio (default 8; 0: one lane, first come first served),
`GUNICORN_REST_THREADS` the cap and `GUNICORN_REST_SHARE` the share (1: no limit on time).
"""

import os
import re
import socket
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

from gunicorn.workers.gthread import ThreadWorker

FIRST = re.compile(
    rb"^(?:POST (?:/api/v1/letters/[^/ ?]+/signatures/|/letters/[^/ ?]+/sign/)"
    rb"|(?:GET|HEAD) /(?:healthz|readyz)/?)(?:[? ])"
)
READ = re.compile(rb"^(?:GET|HEAD) ")
PEEK_BYTES = 256
RATIO = 8
REST_SHARE = 0.25
PRESSURE_WINDOW = 0.5  # seconds the rest stays limited in time after signing was last seen pressed
MAX_REST_PAUSE = 0.25  # seconds: the longest a rest item waits for its turn after another, however long that took

_Item = tuple[Future, Callable[..., Any], tuple[Any, ...]]


def is_first(request_head: bytes) -> bool:
    """Whether a request, from its first bytes, goes in the first lane."""
    return FIRST.match(request_head) is not None


def is_read(request_head: bytes) -> bool:
    """Whether a rest-lane request, from its first bytes (b"" when unknown), is served as a read: before the rest's
    other requests. Most requests are reads, so one whose first bytes are unknown is taken for one."""
    return not request_head or READ.match(request_head) is not None


class LanePool:
    """A fixed pool of threads taking work from two lanes: the first lane's oldest item, but after `ratio` of those in
    a row while the rest lane waits, the rest lane's next (its oldest read, or after `ratio` reads in a row while
    others wait, its oldest other item); while the first lane has work running or waiting, at
    most `rest_threads` items of the rest run at once, and they keep busy at most `rest_share` of the time. The same
    interface as ThreadPoolExecutor, as far as gunicorn uses it (submit, shutdown)."""

    def __init__(
        self,
        threads: int,
        *,
        ratio: int,
        rest_threads: int | None = None,
        rest_share: float = REST_SHARE,
        busy_first: int | None = None,
    ) -> None:
        self.ratio = ratio
        self.rest_threads = max(1, threads // 8) if rest_threads is None else max(1, rest_threads)
        self.rest_share = min(1.0, max(0.01, rest_share))
        self._rest_resume = 0.0  # monotonic instant before which no rest item starts while the rest is limited
        self.busy_first = max(2, threads // 4) if busy_first is None else max(1, busy_first)
        self._pressed_at = -PRESSURE_WINDOW  # monotonic instant signing was last seen pressed
        self._running_first = self._running_rest = 0
        self._first: deque[_Item] = deque()
        self._reads: deque[_Item] = deque()
        self._others: deque[_Item] = deque()
        self._streak = self._read_streak = 0
        self._closed = False
        self._ready = threading.Condition()
        self._threads = [threading.Thread(target=self._work, daemon=True, name=f"lane-{n}") for n in range(threads)]
        for thread in self._threads:
            thread.start()

    def submit(self, fn: Callable[..., Any], /, *args: Any, first: bool = False, read: bool = False) -> Future:
        future: Future = Future()
        with self._ready:
            if self._closed:
                raise RuntimeError("cannot submit after shutdown")
            if not self.ratio:  # one lane, first come first served
                self._others.append((future, fn, args))
            else:
                (self._first if first else self._reads if read else self._others).append((future, fn, args))
            self._ready.notify()
        return future

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        with self._ready:
            self._closed = True
            if cancel_futures:
                for future, _fn, _args in [*self._first, *self._reads, *self._others]:
                    future.cancel()
                self._first.clear()
                self._reads.clear()
                self._others.clear()
            self._ready.notify_all()
        if wait:
            for thread in self._threads:
                thread.join()

    def _take(self) -> tuple[Future, Callable[..., Any], tuple[Any, ...], bool] | None:
        """The next item by the lane rule (called with the condition held); None once closed and drained."""
        while True:
            now = time.monotonic()
            limited = self._pressed(now)
            capped = limited or self._running_first or self._first
            paused = limited and now < self._rest_resume
            rest_allowed = (
                (self._reads or self._others) and not paused and (not capped or self._running_rest < self.rest_threads)
            )
            if self._first and (not rest_allowed or self._streak < self.ratio):
                self._streak += 1
                self._running_first += 1
                return (*self._first.popleft(), True)
            if rest_allowed:
                self._streak = 0
                self._running_rest += 1
                return (*self._rest_pop(), False)
            if self._closed and not (self._first or self._reads or self._others):
                return None
            self._ready.wait(max(0.001, self._rest_resume - now) if paused else None)  # a paused item goes at its end

    def _rest_pop(self) -> _Item:
        """The rest's next item: the oldest read, but after `ratio` of those in a row while others wait, the oldest
        other request (called with the condition held, the rest not empty)."""
        if self._reads and (not self._others or self._read_streak < self.ratio):
            self._read_streak += 1
            return self._reads.popleft()
        self._read_streak = 0
        return self._others.popleft()

    def _pressed(self, now: float) -> bool:
        """Whether signing is pressed now (at least `busy_first` signatures are being served or wait for a thread) or
        was within the last `PRESSURE_WINDOW` seconds; called with the condition held."""
        if self._running_first + len(self._first) >= self.busy_first:
            self._pressed_at = now
        return now - self._pressed_at < PRESSURE_WINDOW

    def _done(self, first: bool, started: float) -> None:
        with self._ready:
            now = time.monotonic()
            if first:
                self._running_first -= 1
            else:
                self._running_rest -= 1
                if self._pressed(now):
                    pause = min(MAX_REST_PAUSE, (now - started) * (1 - self.rest_share) / self.rest_share)
                    self._rest_resume = max(self._rest_resume, now + pause)
            self._ready.notify_all()  # a capped rest item may go now

    def _work(self) -> None:
        while True:
            with self._ready:
                item = self._take()
            if item is None:
                return
            future, fn, args, first = item
            started = time.monotonic()
            try:
                if future.set_running_or_notify_cancel():
                    try:
                        future.set_result(fn(*args))
                    except BaseException as error:  # handed to the future, as ThreadPoolExecutor does
                        future.set_exception(error)
            finally:
                self._done(first, started)


class SigningFirstWorker(ThreadWorker):
    """gunicorn's gthread worker with the two-lane pool (`worker_class` in config/gunicorn.py)."""

    def get_thread_pool(self) -> LanePool:  # duck-typed where gunicorn uses it (submit, shutdown)
        ratio = int(os.environ.get("GUNICORN_SIGNING_FIRST_RATIO", RATIO))
        rest = os.environ.get("GUNICORN_REST_THREADS")
        share = float(os.environ.get("GUNICORN_REST_SHARE", REST_SHARE))
        return LanePool(self.cfg.threads, ratio=ratio, rest_threads=int(rest) if rest else None, rest_share=share)

    def enqueue_req(self, conn) -> None:
        head = self._head(conn)
        future = self.tpool.submit(self.handle, conn, first=is_first(head), read=is_read(head))
        future.add_done_callback(lambda done: self.method_queue.defer(self.finish_request, conn, done))

    def _head(self, conn) -> bytes:
        if self.cfg.is_ssl or conn.is_http2:
            return b""
        try:
            return conn.sock.recv(PEEK_BYTES, socket.MSG_PEEK | socket.MSG_DONTWAIT)
        except OSError:  # nothing arrived yet (a new connection), or the peer went away: the handler will see
            return b""
