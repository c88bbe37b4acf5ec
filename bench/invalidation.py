"""P9: a bulk invalidation of N live signatures, and its undo, each end to end (the job's batches: locks, status,
events, export lines and log queue by trigger, invalidation items, audit); signing throughput while each runs ÷
signing alone (gunicorn, as in P1), alternating so a noisy neighbour slows both alike.

Targets (issue 16): 100k signatures invalidated in < 60 s and undone in < 60 s; signing during each ≥ 0.8 of alone.
Counts are folded by beat from the events, as for any signature, and are not part of the timing.

Usage: DATABASE_URL=postgres://postgres@127.0.0.1:5432/undersigned_bench python -m bench.invalidation
       [--signatures 100000] [--signing-seconds 8]
"""

import argparse
import json
import os
import threading
import time
from pathlib import Path
from unittest import mock

from bench.run import Server, setup_django

RESULTS = Path(__file__).resolve().parent / "results_p9.json"
TARGET = "invalidate 100k < 60 s; undo < 60 s; signing during each ÷ alone ≥ 0.8"


def signing_rps(server: Server, seconds: float, clients: int = 16) -> float:
    from bench.load import load

    url = f"{server.url}/api/v1/letters/bench-sign/signatures/"
    return load(url, method="POST", body="sign", clients=clients, seconds=seconds, expect=(202,)).rps


def letter_seed(slug: str, signatures: int) -> None:
    from django.core.management import call_command

    call_command("bench_seed", signatures=signatures, letter=slug, stdout=open(os.devnull, "w"))  # noqa: SIM115


def sweep(slug: str) -> dict:
    """Invalidate every live signature of the letter, then undo it; seconds of each and what they touched."""
    from letters.models import Letter, Signature
    from moderation.models import Invalidation
    from moderation.services import invalidation_run, invalidation_start, invalidation_undo
    from tests.factories import UserFactory

    letter = Letter.objects.get(slug=slug)
    moderator = UserFactory(username=f"bench-moderator-{slug}")
    # The job is run here, as a worker would, instead of through the broker.
    with mock.patch("moderation.services._enqueue"):
        invalidation = invalidation_start(
            letter=letter, criteria={"source": "web"}, reason="P9", confirm_large=True, actor=moderator
        )
        started = time.perf_counter()
        invalidation_run(invalidation_id=invalidation.pk)
        swept = time.perf_counter() - started
        live_after = Signature.objects.filter(letter=letter, status__in=Signature.LIVE_STATUSES).count()
        invalidation_undo(invalidation=Invalidation.objects.get(pk=invalidation.pk), actor=moderator)
        started = time.perf_counter()
        invalidation_run(invalidation_id=invalidation.pk)
        undone = time.perf_counter() - started
    done = Invalidation.objects.get(pk=invalidation.pk)
    return {
        "invalidate_seconds": round(swept, 2),
        "undo_seconds": round(undone, 2),
        "removed": done.removed,
        "restored": done.restored,
        "live_after_invalidation": live_after,
        "live_after_undo": Signature.objects.filter(letter=letter, status__in=Signature.LIVE_STATUSES).count(),
        "status": done.status,
    }


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--signatures", type=int, default=100_000)
    parser.add_argument("--signing-seconds", type=float, default=8.0)
    args = parser.parse_args(argv)
    database_url = os.environ["DATABASE_URL"]
    setup_django(database_url)
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from letters.models import Letter

    if not Letter.objects.filter(slug="bench-sign").exists():
        letter_seed("bench-sign", 0)
    tag = str(time.time_ns())
    result: dict = {"signatures": args.signatures, "target": TARGET}
    letter_seed(f"bench-inval-{tag}", args.signatures)
    result["alone"] = sweep(f"bench-inval-{tag}")
    if args.signing_seconds > 0:
        letter_seed(f"bench-inval-{tag}b", args.signatures)
        server = Server(database_url)
        try:
            signing_rps(server, 2)  # warm up
            alone = signing_rps(server, args.signing_seconds)
            during: dict = {}
            worker = threading.Thread(target=lambda: during.update(sweep(f"bench-inval-{tag}b")))
            worker.start()
            time.sleep(0.5)
            # Sign for as long as the sweep and its undo run (at least the alone window), then once more alone.
            rounds: list[float] = []
            while worker.is_alive():
                rounds.append(signing_rps(server, min(args.signing_seconds, 4.0)))
            worker.join()
            alone_after = signing_rps(server, args.signing_seconds)
            baseline = (alone + alone_after) / 2
            while_sweeping = sum(rounds) / len(rounds) if rounds else 0.0
            result["signing"] = {
                "alone_rps": round(alone, 1),
                "alone_after_rps": round(alone_after, 1),
                "during_rps_rounds": [round(r, 1) for r in rounds],
                "during_rps": round(while_sweeping, 1),
                "ratio": round(while_sweeping / baseline, 3) if baseline else None,
                "sweep_during": during,
            }
        finally:
            server.stop()
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
