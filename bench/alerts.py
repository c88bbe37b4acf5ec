"""Trending alerts: one pass of the detector (moderation.alerts.alerts_scan) over a letter of N old signatures plus a
wave of 3,000 new ones (2,000 from one address), with no watermark (the first passes after a deploy: the window is
found by signed_at alone) and with one older than the window (every later pass: a primary-key range scan).

Usage: DATABASE_URL=postgres://postgres@127.0.0.1:5432/undersigned_bench python -m bench.alerts [--signatures 500000]
"""

import argparse
import json
import os
import time
from datetime import timedelta

from bench.run import setup_django

SLUG = "bench-alerts"
WAVE = 3000


def wave_insert(letter, now) -> int:
    """The wave's rows; returns the highest id before them."""
    from letters.ipaddrs import ip_hashes
    from letters.models import Signature

    floor = Signature.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    one = ip_hashes("203.0.113.50")
    rows = [
        Signature(
            letter=letter,
            version_id=letter.current_version_id,
            name=f"Wave {i}",
            email=f"w{i}@d{i % 700}.example",
            email_key=f"w{i}@d{i % 700}.example",
            status="pending",
            ip_hash=(one if i < 2000 else ip_hashes(f"198.{i % 250}.{i // 250}.7"))[0],
            ip_prefix_hash=(one if i < 2000 else ip_hashes(f"198.{i % 250}.{i // 250}.7"))[1],
            signed_at=now - timedelta(seconds=i % 500),
        )
        for i in range(WAVE)
    ]
    Signature.objects.bulk_create(rows, batch_size=1000)
    return floor


def best_pass_ms(now, runs: int = 3) -> tuple[float, dict]:
    from moderation.alerts import alerts_scan
    from moderation.models import AlertScan, TrendingAlert

    times, result = [], None
    for _ in range(runs):
        TrendingAlert.objects.all().delete()
        started = time.perf_counter()
        result = alerts_scan(at=now)
        times.append(time.perf_counter() - started)
        AlertScan.objects.filter(scanned_at=now).delete()
    TrendingAlert.objects.all().delete()
    return round(min(times) * 1000, 1), result.__dict__ if result else {}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--signatures", type=int, default=500_000)
    args = parser.parse_args()
    setup_django(os.environ["DATABASE_URL"])
    from django.core.management import call_command
    from django.utils import timezone

    from letters.models import Letter, Signature
    from moderation.models import AlertScan

    if not Letter.objects.filter(slug=SLUG).exists():
        call_command("bench_seed", signatures=args.signatures, letter=SLUG, stdout=open(os.devnull, "w"))  # noqa: SIM115
    letter = Letter.objects.get(slug=SLUG)
    now = timezone.now()
    Signature.objects.filter(letter=letter, name__startswith="Wave ").delete()
    floor = wave_insert(letter, now)
    AlertScan.objects.all().delete()
    cold = best_pass_ms(now)
    AlertScan.objects.create(scanned_at=now - timedelta(seconds=620), max_signature_id=floor)
    warm = best_pass_ms(now)
    AlertScan.objects.all().delete()
    print(json.dumps({"signatures": Signature.objects.count(), "no_watermark_ms": cold[0],
                      "with_watermark_ms": warm[0], "result": warm[1]}, indent=2))  # fmt: skip


if __name__ == "__main__":
    main()
