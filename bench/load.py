"""A small asyncio HTTP load generator run in separate processes; loopback only, bounded in time."""

import asyncio
import itertools
import multiprocessing
import os
import statistics
import time
from dataclasses import dataclass
from urllib.parse import urlparse

import httpx


@dataclass
class LoadResult:
    requests: int
    errors: int
    seconds: float
    latencies_ms: list[float]

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def percentile(self, q: float) -> float:
        if not self.latencies_ms:
            return float("nan")
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    def summary(self) -> dict:
        return {
            "requests": self.requests,
            "errors": self.errors,
            "rps": round(self.rps, 1),
            "p50_ms": round(self.percentile(0.50), 2),
            "p95_ms": round(self.percentile(0.95), 2),
            "p99_ms": round(self.percentile(0.99), 2),
            "mean_ms": round(statistics.fmean(self.latencies_ms), 2) if self.latencies_ms else None,
        }


def _check_loopback(url: str) -> None:
    host = urlparse(url).hostname or ""
    if not (host.startswith("127.") or host in {"localhost", "::1"}):
        raise ValueError(f"Load is only ever sent to loopback addresses, not {host!r}")


async def _client_loop(client, method, url, body_for, deadline, counter, latencies, errors, expect, vary):
    for n in counter:
        if time.perf_counter() >= deadline:
            return
        started = time.perf_counter()
        target = f"{url}{'&' if '?' in url else '?'}_vary={n}" if vary else url
        try:
            response = await client.request(method, target, json=body_for(n) if body_for else None)
            ok = response.status_code in expect
        except httpx.HTTPError:
            ok = False
        latencies.append((time.perf_counter() - started) * 1000)
        if not ok:
            errors.append(1)


async def _run(method, url, body_for, clients, seconds, expect, vary):
    latencies: list[float] = []
    errors: list[int] = []
    counter = itertools.count(os.getpid() * 10_000_000)
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(limits=limits, timeout=30) as client:
        deadline = time.perf_counter() + seconds
        started = time.perf_counter()
        await asyncio.gather(
            *[
                _client_loop(client, method, url, body_for, deadline, counter, latencies, errors, expect, vary)
                for _ in range(clients)
            ]
        )
        elapsed = time.perf_counter() - started
    return len(latencies), len(errors), elapsed, latencies


def _worker(args):
    method, url, body_kind, clients, seconds, expect, vary = args
    body_for = sign_body if body_kind == "sign" else None
    return asyncio.run(_run(method, url, body_for, clients, seconds, expect, vary))


def sign_body(n: int) -> dict:
    return {"name": f"Bench Signer {n}", "email": f"bench{n}@example.org", "organization": "Nvidia", "title": "Eng"}


def load(
    url: str,
    *,
    clients: int = 32,
    seconds: float = 5.0,
    method: str = "GET",
    body: str | None = None,
    processes: int = 2,
    expect: tuple[int, ...] = (200,),
    vary: bool = False,
) -> LoadResult:
    """`clients` concurrent requests for `seconds`, spread over `processes` processes.

    `vary` makes every URL unique (an ignored `_vary` parameter), so no response cache can answer."""
    _check_loopback(url)
    per_process = max(1, clients // processes)
    with multiprocessing.get_context("spawn").Pool(processes) as pool:
        parts = pool.map(_worker, [(method, url, body, per_process, seconds, expect, vary)] * processes)
    requests = sum(p[0] for p in parts)
    errors = sum(p[1] for p in parts)
    elapsed = max(p[2] for p in parts)
    return LoadResult(requests=requests, errors=errors, seconds=elapsed, latencies_ms=[x for p in parts for x in p[3]])


def combined(results: list[LoadResult]) -> LoadResult:
    """Several runs as one: requests and seconds add up, latencies pool."""
    return LoadResult(
        requests=sum(r.requests for r in results),
        errors=sum(r.errors for r in results),
        seconds=sum(r.seconds for r in results),
        latencies_ms=[x for r in results for x in r.latencies_ms],
    )
