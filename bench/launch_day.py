"""P8, launch day: signing while confirmers and readers load the same big letter, against signing alone.

Rounds alternate, as in P1: 16 signers alone, then 16 signers + 16 confirmers + 32 readers, so machine noise hits both
sides; the figure is the median round ratio of signing throughput. Signers sign new addresses (unique per run, round,
process and request, so no round takes the re-sign path). Confirmers spend tokens of pending signatures seeded for
this run (bench_seed.pending_signatures_seed), one first confirmation per token. Readers loop over the stats, three
cursor pages of the signer list and the letter's HTML page. Alongside: every 5xx answer, PostgreSQL's deadlock count
for the database before and after, wait events of active backends sampled during the rounds, and CPU use.

A second, paced variant (extra information, not the P8 figure) isolates contention from CPU sharing: each round also
runs the same 16 closed-loop signers while confirmations and reads arrive open-loop at fixed modest total rates
(PACED_CONFIRMS_PER_S, PACED_READS_PER_S; BENCH_P8_PACED_CONFIRMS / BENCH_P8_PACED_READS override them, 0 skips the
variant), so what remains of the slowdown is waiting on each other rather than sharing two cores.
"""

import asyncio
import contextlib
import itertools
import math
import multiprocessing
import os
import secrets
import threading
import time
from collections import Counter

import httpx

from bench.load import LoadResult, _check_loopback, combined

SIGNERS, CONFIRMERS, READERS = 16, 16, 32
PROCESSES = 2
READ_KINDS = ("stats", "list", "page")
LIST_PAGES = 3  # a list read follows the cursor this many pages
PACED_CONFIRMS_PER_S = float(os.environ.get("BENCH_P8_PACED_CONFIRMS", 10))  # in total, over all processes
PACED_READS_PER_S = float(os.environ.get("BENCH_P8_PACED_READS", 30))  # read requests (a list read is 3 of them)


async def _timed(client, method, url, started=None, **kwargs):
    """One request and its latency; `started` (open loop) is the instant it was due, so client queueing counts."""
    started = time.perf_counter() if started is None else started
    try:
        response = await client.request(method, url, **kwargs)
    except httpx.HTTPError as error:
        return type(error).__name__, (time.perf_counter() - started) * 1000
    return response, (time.perf_counter() - started) * 1000


class _Tally:
    """Status codes and latencies of one kind of request in one worker process."""

    def __init__(self) -> None:
        self.codes: Counter = Counter()
        self.latencies: list[float] = []

    def add(self, response, ms: float) -> None:
        """`response` is a response or the name of the client exception raised instead."""
        self.codes[response.status_code if isinstance(response, httpx.Response) else f"exception {response}"] += 1
        self.latencies.append(ms)


async def _signer(client, api, big, tag, deadline, numbers, tally):
    for n in numbers:
        if time.perf_counter() >= deadline:
            return
        body = {"name": f"Launch Signer {n}", "email": f"{tag}-{n}@example.org", "organization": "Nvidia",
                "title": "Engineer"}  # fmt: skip
        tally.add(*await _timed(client, "POST", f"{api}/letters/{big}/signatures/", json=body))


async def _confirmer(client, api, deadline, tokens, tally, exhausted):
    while time.perf_counter() < deadline:
        if not tokens:
            exhausted.append(1)
            return
        tally.add(*await _timed(client, "POST", f"{api}/signatures/confirm/", json={"token": tokens.pop()}))


async def _reader(client, base, api, big, deadline, tallies, first):
    """Stats, three cursor pages of the signer list, the letter page, over and over; readers start at different
    steps so every kind is read from the first moment."""
    urls = {"stats": f"{api}/letters/{big}/stats/", "page": f"{base}/letters/{big}/"}
    for kind in itertools.islice(itertools.cycle(READ_KINDS), first, None):
        if time.perf_counter() >= deadline:
            return
        await _read(client, api, big, urls, kind, deadline, tallies)


async def _read(client, api, big, urls, kind, deadline, tallies, due=None):
    if kind != "list":
        tallies[kind].add(*await _timed(client, "GET", urls[kind], started=due))
        return
    url = f"{api}/letters/{big}/signatures/"
    for _ in range(LIST_PAGES):
        response, ms = await _timed(client, "GET", url, started=due)
        due = None
        tallies["list"].add(response, ms)
        ok = isinstance(response, httpx.Response) and response.status_code == 200
        url = response.json().get("next") if ok else None
        if not url or time.perf_counter() >= deadline:
            break


async def _paced(deadline, rate, fire):
    """Open loop: starts fire(n, due) every 1/rate s until the deadline, whether or not earlier ones have answered."""
    if rate <= 0:
        return
    start, tasks = time.perf_counter(), []
    for n in itertools.count():
        due = start + n / rate
        if due >= deadline:
            break
        await asyncio.sleep(max(0.0, due - time.perf_counter()))
        tasks.append(asyncio.create_task(fire(n, due)))
    await asyncio.gather(*tasks)


def _paced_coroutines(client, base, api, big, deadline, tokens, tallies, exhausted, confirm_rate, read_rate):
    """Confirmations at confirm_rate/s and reads at read_rate requests/s (stats, a list read, the page in turn)."""
    urls = {"stats": f"{api}/letters/{big}/stats/", "page": f"{base}/letters/{big}/"}

    async def confirm(n, due):
        if not tokens:
            exhausted.append(1)
            return
        body = {"token": tokens.pop()}
        tallies["confirm"].add(*await _timed(client, "POST", f"{api}/signatures/confirm/", started=due, json=body))

    async def read(n, due):
        await _read(client, api, big, urls, READ_KINDS[n % len(READ_KINDS)], deadline, tallies, due=due)

    per_cycle = len(READ_KINDS) - 1 + LIST_PAGES  # requests per cycle of read kinds
    return [_paced(deadline, confirm_rate, confirm), _paced(deadline, read_rate * len(READ_KINDS) / per_cycle, read)]


async def _mix(base, big, tag, signers, confirmers, readers, tokens, seconds, confirm_rate=0.0, read_rate=0.0):
    api = f"{base}/api/v1"
    tallies = {kind: _Tally() for kind in ("sign", "confirm", *READ_KINDS)}
    exhausted: list[int] = []
    numbers = iter(range(10**9))

    def client(count: int, keepalive: float = 5.0) -> httpx.AsyncClient:
        return httpx.AsyncClient(limits=httpx.Limits(max_connections=max(count, 1), keepalive_expiry=keepalive),
                                 timeout=30)  # fmt: skip

    async with (
        client(signers) as sign_client,
        client(confirmers) as confirm_client,
        client(readers) as read_client,
        # Open loop leaves connections idle: let them go well before gunicorn's 5 s keep-alive closes them, or a
        # request can meet a connection the server is closing (RemoteProtocolError, the client's race, not the app's).
        client(64 if confirm_rate or read_rate else 0, keepalive=2.0) as paced_client,
    ):
        deadline = time.perf_counter() + seconds
        started = time.perf_counter()
        await asyncio.gather(
            *[_signer(sign_client, api, big, tag, deadline, numbers, tallies["sign"]) for _ in range(signers)],
            *[_confirmer(confirm_client, api, deadline, tokens, tallies["confirm"], exhausted)
              for _ in range(confirmers)],
            *[_reader(read_client, base, api, big, deadline, tallies, i % len(READ_KINDS)) for i in range(readers)],
            *_paced_coroutines(paced_client, base, api, big, deadline, tokens, tallies, exhausted, confirm_rate,
                               read_rate),
        )  # fmt: skip
        elapsed = time.perf_counter() - started
    return {
        "elapsed": elapsed,
        "exhausted": len(exhausted),
        "tallies": {kind: (dict(t.codes), t.latencies) for kind, t in tallies.items()},
    }


def _worker(args: dict) -> dict:
    return asyncio.run(_mix(**args))


EXPECT = {"sign": 202, "confirm": 200, "stats": 200, "list": 200, "page": 200}


def run_round(server_url, big, *, tag, signers, confirmers, readers, token_slices, seconds, confirm_rate=0.0,
              read_rate=0.0) -> dict:  # fmt: skip
    """One round: the given clients (and paced rates, in total) spread over PROCESSES processes for `seconds`; per
    kind, a LoadResult and the status codes seen."""
    _check_loopback(server_url)
    args = [
        dict(base=server_url, big=big, tag=f"{tag}-p{i}", signers=signers // PROCESSES,
             confirmers=confirmers // PROCESSES, readers=readers // PROCESSES, tokens=token_slices[i], seconds=seconds,
             confirm_rate=confirm_rate / PROCESSES, read_rate=read_rate / PROCESSES)
        for i in range(PROCESSES)
    ]  # fmt: skip
    with multiprocessing.get_context("spawn").Pool(PROCESSES) as pool:
        parts = pool.map(_worker, args)
    elapsed = max(p["elapsed"] for p in parts)
    out: dict = {"exhausted": sum(p["exhausted"] for p in parts), "kinds": {}, "codes": {}}
    for kind, expected in EXPECT.items():
        codes: Counter = Counter()
        latencies: list[float] = []
        for part in parts:
            part_codes, part_latencies = part["tallies"][kind]
            codes.update(part_codes)
            latencies.extend(part_latencies)
        requests = sum(codes.values())
        out["kinds"][kind] = LoadResult(requests=requests, errors=requests - codes.get(expected, 0), seconds=elapsed,
                                        latencies_ms=latencies)  # fmt: skip
        out["codes"][kind] = codes
    return out


# Each active backend's wait event; for a lock wait also the table whose row it waits for (the tuple lock it holds
# meanwhile) and what the blockers run, or last ran if idle in transaction.
ACTIVE_WAITS = """
SELECT coalesce(wait_event_type || ':' || wait_event, 'CPU'),
       left(query, 70) || CASE WHEN wait_event_type = 'Lock' THEN
           ' [row of ' || coalesce((SELECT string_agg(DISTINCT l.relation::regclass::text, ',') FROM pg_locks l
                                    WHERE l.pid = a.pid AND l.locktype = 'tuple'), '?') || '] <- ' ||
           coalesce((SELECT string_agg(b.state || ': ' || left(b.query, 70), ' | ') FROM pg_stat_activity b
                     WHERE b.pid = ANY(pg_blocking_pids(a.pid))), '?')
       ELSE '' END
FROM pg_stat_activity a
WHERE datname = current_database() AND state = 'active' AND pid <> pg_backend_pid()
"""


class WaitSampler:
    """Samples wait events of the database's active backends every 50 ms while `phase` is set (own connection)."""

    def __init__(self, database_url: str) -> None:
        import psycopg

        self.conn = psycopg.connect(database_url, autocommit=True)
        self.samples: dict[str, Counter] = {"alone": Counter(), "mix": Counter(), "paced": Counter()}
        self.lock_waits: Counter = Counter()
        self.phase: str | None = None
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self.done.wait(0.05):
            phase = self.phase
            if phase is None:
                continue
            with contextlib.suppress(Exception):
                rows = self.conn.execute(ACTIVE_WAITS).fetchall()
                self.samples[phase]["samples"] += 1
                for event, sql in rows:
                    self.samples[phase][event] += 1
                    if event.startswith("Lock:"):
                        self.lock_waits[f"{phase} {event} {sql}"] += 1

    def stop(self) -> dict:
        self.done.set()
        self.thread.join()
        self.conn.close()
        return {
            "active_backends_by_wait_event": {phase: dict(c.most_common()) for phase, c in self.samples.items()},
            "lock_waits": dict(self.lock_waits.most_common(10)),
        }


def deadlocks(database_url: str, wait: float) -> int:
    """pg_stat_database.deadlocks for this database, after `wait` s: backends report their statistics when idle
    (within 10 s, PGSTAT_IDLE_INTERVAL) or at most once a second."""
    import psycopg

    time.sleep(wait)
    with psycopg.connect(database_url, autocommit=True) as conn:
        return conn.execute("SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()").fetchone()[0]


class CpuMeter:
    """System CPU use (psutil) and the gunicorn processes' CPU seconds over one round."""

    def __init__(self, server_pid: int) -> None:
        import psutil

        self.server = psutil.Process(server_pid)
        self.workers = self.server.children()
        psutil.cpu_percent(None)
        self.before = self._server_seconds()

    def _server_seconds(self) -> float:
        total = 0.0
        for process in [self.server, *self.workers]:
            with contextlib.suppress(Exception):
                times = process.cpu_times()
                total += times.user + times.system
        return total

    def stop(self) -> tuple[float, float]:
        import psutil

        return psutil.cpu_percent(None), self._server_seconds() - self.before


def _seed_tokens(letter_id: int, count: int, tag: str) -> list[str]:
    from letters.management.commands.bench_seed import pending_signatures_seed
    from letters.models import Letter

    return pending_signatures_seed(letter=Letter.objects.get(pk=letter_id), count=count, tag=tag)


def _slices(tokens: list[str], parts: int) -> list[list[str]]:
    size = len(tokens) // parts
    return [tokens[i * size : (i + 1) * size] for i in range(parts)]


def _reads(kinds: dict) -> LoadResult:
    """All reads of one round as one result (over that round's time)."""
    reads = [kinds[kind] for kind in READ_KINDS]
    return LoadResult(requests=sum(r.requests for r in reads), errors=sum(r.errors for r in reads),
                      seconds=reads[0].seconds, latencies_ms=[x for r in reads for x in r.latencies_ms])  # fmt: skip


def _summary(kinds: list[dict], kind: str) -> dict:
    return combined([k[kind] for k in kinds]).summary()


def p8(server, database_url: str, letter_id: int, big: str, seconds: float, rounds: int, stats_wait: float) -> dict:
    tag = f"launch-{secrets.token_hex(4)}"
    full = dict(signers=SIGNERS, confirmers=CONFIRMERS, readers=READERS)
    alone = dict(signers=SIGNERS, confirmers=0, readers=0)
    paced = dict(alone, confirm_rate=PACED_CONFIRMS_PER_S, read_rate=PACED_READS_PER_S)
    do_paced = PACED_CONFIRMS_PER_S > 0 or PACED_READS_PER_S > 0
    # A warm-up mix second: workers render the letter page and confirm for the first time, and its confirmation
    # rate sizes the pool of tokens for the measured rounds (twice what the same rate would spend).
    warm_tokens = _seed_tokens(letter_id, 3000, f"{tag}-warm")
    warm = run_round(server.url, big, tag=f"{tag}-warm", token_slices=_slices(warm_tokens, PROCESSES),
                     seconds=max(1.0, seconds / 4), **full)  # fmt: skip
    warm_confirms = warm["kinds"]["confirm"]
    per_round = max(200, math.ceil(2 * warm_confirms.rps * seconds))
    tokens = _seed_tokens(letter_id, per_round * rounds, tag)
    paced_per_round = math.ceil(1.5 * PACED_CONFIRMS_PER_S * seconds) + 2 * PROCESSES
    paced_tokens = _seed_tokens(letter_id, paced_per_round * rounds if do_paced else 0, f"{tag}-paced")
    before = deadlocks(database_url, stats_wait)
    sampler = WaitSampler(database_url)
    alones: list[dict] = []
    mixes: list[dict] = []
    paceds: list[dict] = []
    ratios: list[float] = []
    paced_ratios: list[float] = []
    cpu: dict[str, list] = {"alone": [], "mix": [], "paced": []}
    try:
        for n in range(rounds):
            phases: list[tuple[str, dict, list]] = [
                ("alone", alone, [[] for _ in range(PROCESSES)]),
                ("mix", full, _slices(tokens[n * per_round : (n + 1) * per_round], PROCESSES)),
            ]
            if do_paced:
                own = paced_tokens[n * paced_per_round : (n + 1) * paced_per_round]
                phases.append(("paced", paced, _slices(own, PROCESSES)))
            for phase, clients, slices in phases:
                meter = CpuMeter(server.process.pid)
                sampler.phase = phase
                result = run_round(server.url, big, tag=f"{tag}-r{n}-{phase}", token_slices=slices, seconds=seconds,
                                   **clients)  # fmt: skip
                sampler.phase = None
                system_percent, server_seconds = meter.stop()
                cpu[phase].append({"system_percent": system_percent, "server_cpu_s": round(server_seconds, 2)})
                {"alone": alones, "mix": mixes, "paced": paceds}[phase].append(result)
            ratios.append(mixes[-1]["kinds"]["sign"].rps / alones[-1]["kinds"]["sign"].rps)
            if do_paced:
                paced_ratios.append(paceds[-1]["kinds"]["sign"].rps / alones[-1]["kinds"]["sign"].rps)
    finally:
        waits = sampler.stop()
    after = deadlocks(database_url, stats_wait)
    codes: Counter = Counter()
    for result in [*alones, *mixes, warm]:
        for kind_codes in result["codes"].values():
            codes.update({str(code): n for code, n in kind_codes.items()})
    mix_kinds = [m["kinds"] for m in mixes]
    firsts = sum(m["codes"]["confirm"].get(200, 0) for m in mixes)
    stored = _stored(tag)
    ordered = sorted(ratios)
    return {
        "clients": full,
        "rounds": rounds,
        "seconds_per_round": seconds,
        "ratio": round(ordered[len(ordered) // 2], 3),
        "round_ratios": [round(r, 3) for r in ratios],
        "sign_alone": _summary([a["kinds"] for a in alones], "sign"),
        "sign_mix": _summary(mix_kinds, "sign"),
        "confirm_mix": _summary(mix_kinds, "confirm"),
        "read_mix": {kind: _summary(mix_kinds, kind) for kind in READ_KINDS},
        "read_mix_all": combined([_reads(k) for k in mix_kinds]).summary(),
        "first_confirmations": firsts,
        "tokens_per_round": per_round,
        "confirmers_out_of_tokens": sum(m["exhausted"] for m in mixes),
        "warm_up": {
            "confirm_rps": round(warm_confirms.rps, 1),
            "codes": {k: dict(v) for k, v in warm["codes"].items()},
        },
        "status_codes": dict(codes),
        "errors": sum(k[kind].errors for k in [*mix_kinds, *(a["kinds"] for a in alones)] for kind in EXPECT),
        "server_errors_5xx": sum(n for code, n in codes.items() if code.startswith("5")),
        "deadlocks": after - before,
        "stored": stored,
        "cpu": cpu,
        **waits,
        "paced": _paced_summary(paceds, paced_ratios, tag) if do_paced else None,
    }


def _paced_summary(paceds: list[dict], ratios: list[float], tag: str) -> dict:
    """The paced variant: extra information beside the P8 figure, against the same rounds' signing alone."""
    kinds = [p["kinds"] for p in paceds]
    codes: Counter = Counter()
    for result in paceds:
        for kind_codes in result["codes"].values():
            codes.update({str(code): n for code, n in kind_codes.items()})
    ordered = sorted(ratios)
    return {
        "what": "16 closed-loop signers + open-loop confirmations and reads at fixed total rates, ÷ signing alone",
        "confirms_per_s": PACED_CONFIRMS_PER_S,
        "read_requests_per_s": PACED_READS_PER_S,
        "ratio": round(ordered[len(ordered) // 2], 3),
        "round_ratios": [round(r, 3) for r in ratios],
        "sign": _summary(kinds, "sign"),
        "confirm": _summary(kinds, "confirm"),
        "read": {kind: _summary(kinds, kind) for kind in READ_KINDS},
        "read_all": combined([_reads(k) for k in kinds]).summary(),
        "first_confirmations": sum(p["codes"]["confirm"].get(200, 0) for p in paceds),
        "pending_confirmed_stored": _stored(f"{tag}-paced")["pending_confirmed"],
        "out_of_tokens": sum(p["exhausted"] for p in paceds),
        "status_codes": dict(codes),
        "errors": sum(k[kind].errors for k in kinds for kind in EXPECT),
        "server_errors_5xx": sum(n for code, n in codes.items() if code.startswith("5")),
    }


def _codes(result: dict) -> dict:
    return {kind: {str(code): n for code, n in codes.items()} for kind, codes in result["codes"].items()}


def _stored(tag: str) -> dict:
    """What the database holds afterwards for this run: signatures by the signers, pending ones confirmed."""
    from letters.models import Signature

    signed = Signature.objects.filter(email_key__startswith=f"{tag}-r").count()
    confirmed = Signature.objects.filter(
        email_key__startswith="pending-", name__contains=f" Pending {tag} ", status=Signature.Status.CONFIRMED
    ).count()
    return {"signatures_by_signers": signed, "pending_confirmed": confirmed}


def verdict(p: dict) -> bool:
    return (
        p["ratio"] >= 0.8
        and p["errors"] == 0
        and p["server_errors_5xx"] == 0
        and p["deadlocks"] == 0
        and p["sign_mix"]["p99_ms"] < 500
    )


def row(p: dict) -> str:
    text = (
        f"ratio {p['ratio']} ({p['sign_mix']['rps']} vs {p['sign_alone']['rps']} sign/s); p99 sign "
        f"{p['sign_mix']['p99_ms']} confirm {p['confirm_mix']['p99_ms']} read {p['read_mix_all']['p99_ms']} ms; "
        f"{p['first_confirmations']} confirmed; {p['errors']} errors, {p['server_errors_5xx']} 5xx, "
        f"{p['deadlocks']} deadlocks"
    )
    if q := p.get("paced"):
        text += (
            f" | paced variant (not the figure; {q['confirms_per_s']:g} confirms/s + {q['read_requests_per_s']:g} "
            f"reads/s open loop): ratio {q['ratio']} ({q['sign']['rps']} sign/s), p99 sign {q['sign']['p99_ms']} "
            f"ms, {q['errors']} errors"
        )
    return text
