"""Transparency-log figures: T1, the standalone verifier (docs/verify.py) checking a log of N entries from scratch over
HTTP against the real app under gunicorn (target: 1M entries in < 60 s).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/undersigned_bench python -m bench.transparency --entries 1000000

Seeds the log with synthetic `entered` entries through transparency.services.entries_append (batches of 10 000, the
same path the letters batch takes) until it holds N, signs a checkpoint, then times `docs/verify.py log --offline`
(every entry bundle and hash tile fetched and recomputed, signature and root checked, entries replayed; no API
comparison, the entries name no real letter). T1 uses no Redis: the app's cache is per process and Celery is eager.

    python -m bench.transparency --p1     # P1 with the log on ÷ off, and the checkpoint lag under that load

P1 (bench.run.p1_p2) alternating server runs with TRANSPARENCY_LOG off and on; "on" also runs what beat does for the
log (log_sync every 2 s) and a probe confirming one signature a second, timing until a checkpoint covers it.
"""

import argparse
import hashlib
import json
import os
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

from bench.run import ROOT, Server, setup_django

BATCH = 10_000


def entry(i: int) -> bytes:
    return json.dumps(
        {"t": "entered", "letter": "bench-log", "id": f"b{i:010d}", "version": "0" * 64, "level": "email", "org": "",
         "withheld": False, "name": f"{i:064x}", "at": "2026-12-01T00:00:00Z"},
        sort_keys=True, separators=(",", ":"),
    ).encode()  # fmt: skip


def seed(n: int) -> float:
    from transparency import services
    from transparency.models import Checkpoint, LogHead

    started = time.perf_counter()
    size = LogHead.objects.get_or_create(pk=1)[0].size
    while size < n:
        count = min(BATCH, n - size)
        services.entries_append(entries=[entry(i) for i in range(size, size + count)])
        size += count
    if not Checkpoint.objects.filter(size=size).exists():
        services.checkpoint_publish()
    return time.perf_counter() - started


class Beat:
    """What beat does for the log (transparency.tasks.checkpoint_publish every 2 s), in threads of this process, and
    a probe confirming one signature a second and timing until a signed checkpoint covers it (checkpoint lag)."""

    def __init__(self, letter_slug: str) -> None:
        self.stop, self.lags, self.slug = threading.Event(), [], letter_slug
        self.threads = [threading.Thread(target=self.beat), threading.Thread(target=self.probe)]

    def __enter__(self) -> "Beat":
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(30)

    def beat(self) -> None:
        from django.db import connection

        from transparency import services

        while not self.stop.wait(2.0):
            services.log_sync()
        connection.close()

    def probe(self) -> None:
        from django.db import connection

        from letters.models import Letter, SignatureCommitment
        from letters.services.signing import signature_confirm, signature_create
        from transparency.models import Checkpoint

        letter, n = Letter.objects.get(slug=self.slug), 0
        while not self.stop.wait(1.0):
            n += 1
            created = signature_create(letter=letter, name=f"Probe {n}", email=f"probe-{time.time_ns()}@example.org",
                                       send_email=False, check_rate_limits=False).signature  # fmt: skip
            signature_confirm(signature=created)
            started = time.perf_counter()
            while not self.stop.is_set():
                index = SignatureCommitment.objects.filter(signature=created).values_list("entered_index", flat=True)
                if index and index[0] is not None and Checkpoint.objects.filter(size__gt=index[0]).exists():
                    self.lags.append(time.perf_counter() - started)
                    break
                time.sleep(0.05)
        connection.close()


def p1_log_on_off(database_url: str, seconds: float, rounds: int = 2) -> None:
    """P1 (sign ÷ bare INSERT) with the log's beat work and a confirmation a second running, and without."""
    from bench.run import p1_p2, warm_up
    from bench.run import seed as bench_seed
    from transparency import services

    bench_seed(20_000)
    services.log_sync()  # the seeded signatures' backlog: logged before anything is measured
    ratios = {}
    for mode in ("off", "on") * rounds:
        os.environ["TRANSPARENCY_LOG"] = "1" if mode == "on" else "0"
        server = Server(database_url)
        try:
            warm_up(server, "bench-20000")
            if mode == "on":
                with Beat("bench-sign") as beat:
                    result = p1_p2(server, seconds, stats_wait=0.0)
                lags = sorted(beat.lags)
                print(f"checkpoint lag under P1 load: median {lags[len(lags) // 2]:.2f} s, max {lags[-1]:.2f} s "
                      f"over {len(lags)} confirmations (target ≤ 10 s)")  # fmt: skip
            else:
                result = p1_p2(server, seconds, stats_wait=0.0)
        finally:
            server.stop()
        ratios.setdefault(mode, []).append((result["c32"]["ratio"], result["c128"]["ratio"]))
        print(f"P1 log {mode}: ratio at 32 / 128 clients {result['c32']['ratio']} / {result['c128']['ratio']}")
    for clients, i in (("32", 0), ("128", 1)):
        on = sorted(r[i] for r in ratios["on"])[0]
        off = sorted(r[i] for r in ratios["off"])[-1]
        mean_on = sum(r[i] for r in ratios["on"]) / len(ratios["on"])
        mean_off = sum(r[i] for r in ratios["off"]) / len(ratios["off"])
        print(f"P1 at {clients} clients, log on ÷ off: mean {mean_on / mean_off:.3f}, worst on ÷ best off "
              f"{on / off:.3f} (target ≥ 0.95)")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--workers", type=int, default=8, help="verifier download threads")
    parser.add_argument("--p1", action="store_true", help="P1 with the log on and off, and the checkpoint lag")
    parser.add_argument("--seconds", type=float, default=2.0, help="with --p1: seconds per load round")
    parser.add_argument("--rounds", type=int, default=2, help="with --p1: off/on server pairs")
    args = parser.parse_args()
    database_url = os.environ["DATABASE_URL"]
    if not args.p1:  # T1 needs no Redis; P1 runs as bench.run does (cache db 13, queue db 14, purged afterwards)
        os.environ.setdefault("BENCH_REDIS_URL", "")
        os.environ.setdefault("BENCH_BROKER_URL", "")
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from transparency.note import Signer

    # One fixed key, so a log seeded by an earlier run keeps verifying (benchmarks only).
    bench_key = Ed25519PrivateKey.from_private_bytes(hashlib.sha256(b"undersigned bench log").digest())
    os.environ.setdefault("TRANSPARENCY_SIGNING_KEY", Signer("bench.undersigned.invalid/log", bench_key).encode())
    setup_django(database_url)
    from django.core.management import call_command

    from transparency.keys import signing_key

    call_command("migrate", verbosity=0)
    if args.p1:
        from bench.run import purge_queue

        try:
            p1_log_on_off(database_url, args.seconds, args.rounds)
        finally:
            purge_queue()
        return
    seeded = seed(args.entries)
    server = Server(database_url)
    try:
        for _ in range(20):  # every worker imports the app on its first requests; not part of the figure
            urllib.request.urlopen(f"{server.url}/log/checkpoint", timeout=60).read()
        started = time.perf_counter()
        verify = subprocess.run(
            [sys.executable, str(Path(ROOT) / "docs" / "verify.py"), "log", "--url", server.url, "--offline",
             "--key", signing_key().verifier_key, "--workers", str(args.workers)],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        seconds = time.perf_counter() - started
    finally:
        server.stop()
    print(verify.stdout.strip())
    if verify.returncode:
        print(verify.stderr, file=sys.stderr)
        sys.exit(1)
    print(f"T1 verify {args.entries} entries from scratch over HTTP: {seconds:.1f} s (target < 60 s)")
    print(f"seeding the log took {seeded:.1f} s")


if __name__ == "__main__":
    main()
