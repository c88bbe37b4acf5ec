"""Benchmarks P1–P6 and P8: product figures as ratios against baselines measured in the same run.

Usage: DATABASE_URL=postgres://postgres@127.0.0.1:5432/undersigned_bench python -m bench.run [--quick] [--only P1,P3]
"""

import argparse
import contextlib
import json
import os
import platform
import socket
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results.json"
TARGETS = {
    "P1": "sign ÷ bare INSERT ≥ 0.70",
    "P2": "UPDATEs on letters = 0",
    "P3": "stats ÷ trivial ≥ 0.80; as_of at N ÷ at 10k ≤ 2",
    "P4": "list p95 < 20 ms; ÷ bare list ≥ 0.60",
    "P5": "CSV ÷ raw COPY ≤ 2×; RSS growth < 100 MB",
    "P6": "100k people: ≥ 100× naive, recall ≥ 0.98, ≥ Splink's speed; 1M ≤ 12× 100k; < 2 GB",
    "P8": "sign in mix ÷ alone ≥ 0.8; p99 < 500 ms; 0 errors",
}


def server_env(database_url: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=database_url,
        DEBUG="0",
        SECRET_KEY="bench-secret-key-not-for-production-0123456789abcdef",
        SECURE_SSL_REDIRECT="0",
        SECURE_COOKIES="0",
        ALLOWED_HOSTS="127.0.0.1,localhost",
        BENCH="1",
        DATABASE_POOL="1",
        API_ANON_RATE="100000000/minute",
        SIGN_RATE_IP_BURST="100000000",
        SIGN_RATE_IP_SUSTAINED="100000000",
        SIGN_RATE_DOMAIN_BURST="100000000",
        SIGN_RATE_DOMAIN_SUSTAINED="100000000",
        LOG_LEVEL="WARNING",
        EMAIL_URL="dummymail://",
        # Shared rate-limit counters and response cache, as in production.
        REDIS_URL=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/13"),
        # As in production, requests only enqueue: nobody consumes this queue, and it is purged afterwards.
        CELERY_BROKER_URL=os.environ.get("BENCH_BROKER_URL", "redis://127.0.0.1:6379/14"),
    )
    return env


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """The real app as production serves it (gunicorn with config/gunicorn.py, production settings), on a free
    loopback port; GUNICORN_WORKERS and GUNICORN_THREADS pass through."""

    def __init__(self, database_url: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {**server_env(database_url), "GUNICORN_BIND": f"127.0.0.1:{self.port}", "GUNICORN_LOG_LEVEL": "warning",
               "GUNICORN_TIMEOUT": "120"}  # fmt: skip
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "config/gunicorn.py", "config.wsgi"], cwd=ROOT, env=env
        )
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("gunicorn did not start")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()


def setup_django(database_url: str) -> None:
    os.environ.update(server_env(database_url))
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    import django

    django.setup()


def seed(signatures: int, *, pages: bool = False) -> dict[str, int]:
    from django.core.management import call_command

    from bench.views import CREATE_TABLE
    from letters.models import Letter

    call_command("migrate", verbosity=0)
    if pages:  # HTML pages need the static manifest, as in production (README, "Deploying")
        call_command("collectstatic", interactive=False, verbosity=0)
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(CREATE_TABLE)
        cursor.execute("TRUNCATE bench_signature_baseline")
    letters = {}
    for slug, count in (("bench-10k", min(10_000, signatures)), (f"bench-{signatures}", signatures)):
        if not Letter.objects.filter(slug=slug).exists():
            call_command("bench_seed", signatures=count, letter=slug, stdout=open(os.devnull, "w"))  # noqa: SIM115
        letters[slug] = Letter.objects.get(slug=slug).pk
    if not Letter.objects.filter(slug="bench-sign").exists():
        call_command("bench_seed", signatures=0, letter="bench-sign", stdout=open(os.devnull, "w"))  # noqa: SIM115
    return letters


def timed(fn, repeat: int = 5) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - started)
    return best


ROUNDS = 5


def warm_up(server: Server, big: str) -> None:
    """A second of each endpoint before anything is measured: workers import modules and fill pools on first use."""
    from bench.load import load

    api = f"{server.url}/api/v1/letters"
    for url, method, body, expect in [
        (f"{server.url}/bench/trivial/", "GET", None, (200,)),
        (f"{server.url}/bench/insert/", "POST", None, (202,)),
        (f"{api}/bench-sign/signatures/", "POST", "sign", (202,)),
        (f"{api}/{big}/stats/", "GET", None, (200,)),
        (f"{api}/{big}/signatures/", "GET", None, (200,)),
    ]:
        load(url, method=method, body=body, clients=8, seconds=1.0, expect=expect)


def p1_p2(server: Server, seconds: float, stats_wait: float = 11.0) -> dict:
    from django.db import connection

    from bench.load import combined, load

    def letter_updates() -> int:
        time.sleep(stats_wait)  # idle backends flush their statistics within PGSTAT_IDLE_INTERVAL (10 s)
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_stat_force_next_flush()")
        with connection.cursor() as cursor:
            cursor.execute("SELECT n_tup_upd + n_tup_hot_upd FROM pg_stat_user_tables WHERE relname = 'letters_letter'")
            return cursor.fetchone()[0]

    out = {}
    sign_url = f"{server.url}/api/v1/letters/bench-sign/signatures/"
    for clients in (32, 128):
        # Alternating rounds, so a noisy neighbour slows both sides alike; the median round ratio is reported.
        bares, signs = [], []
        before = letter_updates() if clients == 32 else 0
        for _ in range(ROUNDS):
            bares.append(load(f"{server.url}/bench/insert/", method="POST", clients=clients, seconds=seconds,
                              expect=(202,)))  # fmt: skip
            signs.append(load(sign_url, method="POST", body="sign", clients=clients, seconds=seconds, expect=(202,)))
        ratios = sorted(sign.rps / bare.rps for sign, bare in zip(signs, bares, strict=True))
        out[f"c{clients}"] = {
            "sign": combined(signs).summary(),
            "bare_insert": combined(bares).summary(),
            "round_ratios": [round(r, 3) for r in ratios],
            "ratio": round(ratios[len(ratios) // 2], 3),
        }
        if clients == 32:
            out["P2_letter_updates"] = letter_updates() - before
    return out


def p3(server: Server, letters: dict[str, int], big: str, seconds: float) -> dict:
    import httpx

    from bench.load import combined, load

    trivials, statses = [], []
    for _ in range(ROUNDS):  # alternating, as in P1
        trivials.append(load(f"{server.url}/bench/trivial/", clients=32, seconds=seconds / ROUNDS))
        statses.append(load(f"{server.url}/api/v1/letters/{big}/stats/", clients=32, seconds=seconds / ROUNDS))
    ratios = sorted(s.rps / t.rps for s, t in zip(statses, trivials, strict=True))
    trivial, stats = combined(trivials), combined(statses)
    instants = iter(range(10_000))

    def latency(slug: str) -> float:
        """Best of 7 reads, each at a different instant so no cache answers it."""

        def one(client) -> None:
            moment = datetime(2026, 1, 20, 12, tzinfo=UTC) + timedelta(seconds=next(instants))
            client.get(f"{server.url}/api/v1/letters/{slug}/stats/", params={"as_of": moment.isoformat()})

        with httpx.Client() as client:
            one(client)
            return timed(lambda: one(client), 7)

    small_ms, big_ms = latency("bench-10k") * 1000, latency(big) * 1000
    return {
        "stats": stats.summary(),
        "trivial": trivial.summary(),
        "round_ratios": [round(r, 3) for r in ratios],
        "ratio": round(ratios[len(ratios) // 2], 3),
        "as_of_ms_10k": round(small_ms, 2),
        "as_of_ms_big": round(big_ms, 2),
        "as_of_growth": round(big_ms / small_ms, 2),
    }


def p4(server: Server, letters: dict[str, int], big: str, seconds: float) -> dict:
    import httpx

    from bench.load import load

    with httpx.Client() as client:
        first = client.get(f"{server.url}/api/v1/letters/{big}/signatures/?page_size=100").json()
    deep = first["next"]
    from letters.models import Signature

    rows = Signature.objects.filter(letter_id=letters[big]).order_by("confirmed_at", "id")
    at, row_id = rows.values_list("confirmed_at", "id")[min(99, rows.count() - 1)]
    listing = load(deep, clients=8, seconds=seconds)
    bare_url = f"{server.url}/bench/list/?letter={letters[big]}&at={quote(at.isoformat())}&id={row_id}"
    bare = load(bare_url, clients=8, seconds=seconds)
    uncached = load(deep, clients=8, seconds=seconds, vary=True)
    bare_uncached = load(bare_url, clients=8, seconds=seconds, vary=True)
    single = load(deep, clients=1, seconds=seconds, processes=1)
    single_uncached = load(deep, clients=1, seconds=seconds, processes=1, vary=True)
    return {
        "list": listing.summary(),
        "bare_list": bare.summary(),
        "ratio": round(listing.rps / bare.rps, 3),
        "p95_ms_single_client": round(single.percentile(0.95), 2),
        # Every URL unique, so the 2 s shared response cache never answers: the cost of a cache miss.
        "uncached": {
            "list": uncached.summary(),
            "bare_list": bare_uncached.summary(),
            "ratio": round(uncached.rps / bare_uncached.rps, 3),
            "p95_ms_single_client": round(single_uncached.percentile(0.95), 2),
        },
    }


def p5(server: Server, letters: dict[str, int], big: str) -> dict:
    import httpx
    import psutil
    from django.db import connection

    def raw_copy() -> int:
        total = 0
        with (
            connection.cursor() as cursor,
            cursor.cursor.copy(
                "COPY (SELECT public_id, name, title, organization_name, verification_level, confirmed_at "
                f"FROM letters_signature WHERE letter_id = {int(letters[big])} AND status = 'confirmed' "
                "ORDER BY confirmed_at, id) TO STDOUT WITH CSV"
            ) as copy,
        ):
            for chunk in copy:
                total += len(chunk)
        return total

    copy_s = timed(raw_copy, 2)
    workers = psutil.Process(server.process.pid).children()
    baseline = {w.pid: w.memory_info().rss for w in workers}
    peak = dict(baseline)
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            for w in workers:
                with contextlib.suppress(psutil.Error):
                    peak[w.pid] = max(peak[w.pid], w.memory_info().rss)
            time.sleep(0.05)

    sampler = threading.Thread(target=sample)
    sampler.start()
    started = time.perf_counter()
    size = 0
    with (
        httpx.Client(timeout=600) as client,
        client.stream("GET", f"{server.url}/api/v1/letters/{big}/export.csv") as r,
    ):
        for chunk in r.iter_bytes():
            size += len(chunk)
    export_s = time.perf_counter() - started
    done.set()
    sampler.join()
    growth = max(peak[pid] - baseline[pid] for pid in baseline) / 1e6
    return {"export_s": round(export_s, 2), "raw_copy_s": round(copy_s, 2), "ratio": round(export_s / copy_s, 2),
            "bytes": size, "rss_growth_mb": round(growth, 1)}  # fmt: skip


def p6(people: int) -> dict:
    """P6 (bench/dedup_perf.py): the dedup scan against the naive loop and Splink on the same records."""
    from bench.dedup_perf import p6 as dedup_p6

    return dedup_p6(people)


def purge_queue() -> None:
    import redis

    with contextlib.suppress(redis.RedisError):
        redis.Redis.from_url(server_env("")["CELERY_BROKER_URL"]).flushdb()


def verdicts(results: dict) -> dict[str, bool]:
    checks = {}
    if "P1" in results:
        checks["P1"] = results["P1"]["c32"]["ratio"] >= 0.70
        checks["P2"] = results["P1"]["P2_letter_updates"] == 0
    if "P3" in results:
        checks["P3"] = results["P3"]["ratio"] >= 0.80 and results["P3"]["as_of_growth"] <= 2
    if "P4" in results:
        checks["P4"] = results["P4"]["p95_ms_single_client"] < 20 and results["P4"]["ratio"] >= 0.60
    if "P5" in results:
        checks["P5"] = results["P5"]["ratio"] <= 2 and results["P5"]["rss_growth_mb"] < 100
    if "P6" in results:
        p = results["P6"]
        checks["P6"] = (
            p["speedup"] >= 100
            and p["recall_vs_naive"] >= 0.98
            and p.get("splink_over_ours", 1) >= 1
            and p["peak_rss_mb"] < 2048
            and p.get("growth", 0) <= 12
        )
    if "P8" in results:
        from bench.launch_day import verdict

        checks["P8"] = verdict(results["P8"])
    return checks


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes and short runs (smoke)")
    parser.add_argument("--signatures", type=int, default=None)
    parser.add_argument("--people", type=int, default=None)
    parser.add_argument("--seconds", type=float, default=None)
    parser.add_argument("--only", default="P1,P3,P4,P5,P6,P8")
    parser.add_argument("--output", default=str(RESULTS))
    args = parser.parse_args(argv)
    database_url = os.environ.get("DATABASE_URL", "")
    if not database_url.startswith(("postgres://", "postgresql://")):
        raise SystemExit("Set DATABASE_URL to a PostgreSQL database (the benchmark migrates and fills it).")
    signatures = args.signatures or (2_000 if args.quick else 1_000_000)
    people = args.people or (2_000 if args.quick else 100_000)
    seconds = args.seconds or (1.0 if args.quick else 8.0)
    only = set(args.only.split(","))
    setup_django(database_url)
    letters = seed(signatures, pages="P8" in only)
    big = f"bench-{signatures}"
    machine = {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version()}
    results: dict = {"machine": machine, "started_at": datetime.now(UTC).isoformat(), "signatures": signatures}
    server = Server(database_url)
    try:
        warm_up(server, big)
        if "P1" in only:
            results["P1"] = p1_p2(server, seconds, stats_wait=1.5 if args.quick else 11.0)
        if "P3" in only:
            results["P3"] = p3(server, letters, big, seconds)
        if "P4" in only:
            results["P4"] = p4(server, letters, big, seconds)
        if "P5" in only:
            results["P5"] = p5(server, letters, big)
        if "P8" in only:  # last: it adds signatures to the big letter and confirms some
            from bench.launch_day import p8

            results["P8"] = p8(server, database_url, letters[big], big, seconds, ROUNDS, 1.5 if args.quick else 11.0)
    finally:
        server.stop()
        purge_queue()
    if "P6" in only:
        results["P6"] = p6(people)
    results["verdicts"] = verdicts(results)
    Path(args.output).write_text(json.dumps(results, indent=2, default=str))
    print_table(results)
    return results


def print_table(results: dict) -> None:
    print(f"\n{'figure':<6} {'target':<50} {'measured':<60} verdict")
    rows = []
    if "P1" in results:
        p = results["P1"]
        rows.append(
            (
                "P1",
                f"ratio {p['c32']['ratio']} at 32 "
                f"({p['c32']['sign']['rps']} vs {p['c32']['bare_insert']['rps']} req/s, "
                f"p50 {p['c32']['sign']['p50_ms']} p99 {p['c32']['sign']['p99_ms']} ms); {p['c128']['ratio']} at 128",
            )
        )
        rows.append(("P2", f"{p['P2_letter_updates']} UPDATEs"))
    if "P3" in results:
        p = results["P3"]
        rows.append(
            ("P3", f"ratio {p['ratio']}; as_of {p['as_of_ms_big']} ms vs {p['as_of_ms_10k']} ms (×{p['as_of_growth']})")
        )
    if "P4" in results:
        p = results["P4"]
        u = p["uncached"]
        rows.append(
            (
                "P4",
                f"p95 {p['p95_ms_single_client']} ms; ratio {p['ratio']} "
                f"(uncached: p95 {u['p95_ms_single_client']} ms, ratio {u['ratio']})",
            )
        )
    if "P5" in results:
        p = results["P5"]
        rows.append(
            ("P5", f"{p['export_s']} s vs COPY {p['raw_copy_s']} s (×{p['ratio']}); RSS +{p['rss_growth_mb']} MB")
        )
    if "P6" in results:
        p = results["P6"]
        rows.append(
            (
                "P6",
                f"{p['blocked_s']} s; ×{p['speedup']} vs naive; recall {p['recall_vs_naive']}; "
                f"Splink ÷ ours {p.get('splink_over_ours', '—')}; {p['peak_rss_mb']} MB",
            )
        )
    if "P8" in results:
        from bench.launch_day import row

        rows.append(("P8", row(results["P8"])))
    for figure, measured in rows:
        verdict = results["verdicts"].get(figure)
        print(f"{figure:<6} {TARGETS[figure]:<50} {measured:<60} {'PASS' if verdict else 'MISS'}")


if __name__ == "__main__":
    main()
