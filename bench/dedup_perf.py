"""P6: the dedup scan on many people, as ratios measured in one run (absolute seconds differ between machines).

    python -m bench.dedup_perf --people 100000 [--big 1000000] [--no-splink]

- speed-up over the naive all-pairs loop (the same scoring on every pair of a 2,000-person sample, extrapolated
  quadratically), and the recall of the blocked scan against that loop on the sample;
- Splink (var/quality-venv, bench/febrl_splink.py settings, suburb variant with the organization as the suburb) on
  the very same records ÷ ours;
- with --big, the same scan on that many people ÷ on --people (near-linear growth: ≤ 12× for 10× the people);
- peak memory of each scan (a child process each, so the peak is the scan's own).
"""

import argparse
import csv
import json
import os
import random
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SPLINK_PYTHON = ROOT / "var" / "quality-venv" / "bin" / "python"
SYLLABLES_FIRST = "Mor Lin Tur Hop Sch Tor Ham Rit Lis Tho Per Dif Hel Riv Sha Adl Lam Knu Mou Wat Kim Ngu Gar Pat Bal"
SYLLABLES_FIRST += " Cor Dun Fen Gil Kov"
SYLLABLES_LAST = "ton ley ris son man ing ard ez ova ski ner ow ell berg stein wood field ford croft dale"


def synthetic_people(n: int, seed: int = 11):
    """People with near names on purpose: 10,800 surnames of three syllables, a few dozen given names, 400 orgs;
    made one at a time (a scan reads them once)."""
    from letters.management.commands.bench_seed import GIVEN
    from registry.duplicate_matching import PersonRecord

    rng = random.Random(seed)
    given = [*GIVEN, "Bob", "Robert", "William", "Bill", "Katherine", "Elizabeth", "Liz", "James", "Jim", "Anna", "Wei"]
    first = SYLLABLES_FIRST.split()
    middle = ["a", "e", "i", "o", "u", "an", "el", "is", "or", "ur", "am", "et", "ol", "ir", "ag", "ev", "ul", "ok"]
    last = SYLLABLES_LAST.split()
    surnames = [f"{a}{b}{c}" for a in first for b in middle for c in last]  # 10,800 surnames
    for i in range(n):
        name = f"{rng.choice(given)} {rng.choice(surnames)}{'' if i % 5 else rng.choice('aeiou')}"
        org = rng.randrange(1, 400)
        yield PersonRecord(id=i + 1, name=name, email_keys=frozenset({f"p{i}@org{org}.example"}),
                           organizations={org: f"Org {org}"})  # fmt: skip


def _setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("DEBUG", "1")
    import django

    django.setup()


def _child(people: int) -> None:
    """One scan in this process: seconds (without making the records), candidates and peak RSS (records made one
    at a time and read once, as the registry's scan reads its people), as one JSON line."""
    _setup()
    from registry.duplicate_matching import find_duplicates

    making = [0.0, 0.0]  # seconds, CPU seconds

    def records():  # the scan reads them as they are made; making them is not the scan's time
        made = synthetic_people(people)
        while True:
            started, cpu = time.perf_counter(), time.process_time()
            record = next(made, None)
            making[0] += time.perf_counter() - started
            making[1] += time.process_time() - cpu
            if record is None:
                return
            yield record

    started, cpu = time.perf_counter(), time.process_time()
    found = find_duplicates(records())
    seconds = time.perf_counter() - started - making[0]
    cpu_seconds = time.process_time() - cpu - making[1]
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"people": people, "seconds": round(seconds, 2), "cpu_s": round(cpu_seconds, 2),
                      "candidates": len(found), "peak_rss_mb": round(peak_mb)}))  # fmt: skip


def scan(people: int) -> dict:
    out = subprocess.run(
        [sys.executable, "-m", "bench.dedup_perf", "--child", str(people)],
        capture_output=True, text=True, check=True, cwd=ROOT,
    )  # fmt: skip
    return json.loads(out.stdout.strip().splitlines()[-1])


def splink_seconds(people: int, timeout: float | None = None) -> dict | None:
    """Splink's seconds on the same records; past `timeout` it is stopped and {"timeout_s": …} says how long it ran."""
    if not SPLINK_PYTHON.exists():
        return None
    from registry.dedup.records import name_words

    path = ROOT / "var" / f"p6-people-{people}.csv"
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["unique_id", "given_name", "surname", "suburb"])
        for record in synthetic_people(people):
            words = name_words(record.name)
            writer.writerow([record.id, words[0] if len(words) > 1 else "", words[-1], *record.organizations.values()])
    try:
        out = subprocess.run(
            [str(SPLINK_PYTHON), str(ROOT / "bench" / "febrl_splink.py"), "--csv", str(path)],
            capture_output=True, text=True, cwd=ROOT, timeout=timeout,
        )  # fmt: skip
    except subprocess.TimeoutExpired:
        return {"timeout_s": timeout}
    if out.returncode != 0:  # Splink's training can fail on small samples (the --quick smoke): no ratio then
        return None
    return json.loads(out.stdout.strip().splitlines()[-1])


def p6(people: int, *, big: int | None = None, splink: bool = True, splink_timeout: float | None = None) -> dict:
    _setup()
    from registry.duplicate_matching import find_duplicates, naive_duplicates

    ours = scan(people)
    sample = list(synthetic_people(2000))
    started = time.perf_counter()
    naive = {(m.a, m.b) for m in naive_duplicates(sample)}
    naive_s = time.perf_counter() - started
    blocked_sample = {(m.a, m.b) for m in find_duplicates(sample)}
    extrapolated = naive_s * (people / len(sample)) ** 2
    result = {
        "people": people,
        "blocked_s": ours["seconds"],
        "blocked_cpu_s": ours["cpu_s"],
        "candidates": ours["candidates"],
        "peak_rss_mb": ours["peak_rss_mb"],
        "naive_sample_s": round(naive_s, 2),
        "naive_extrapolated_s": round(extrapolated, 1),
        "speedup": round(extrapolated / ours["seconds"], 1),
        "recall_vs_naive": round(len(naive & blocked_sample) / len(naive), 4) if naive else 1.0,
    }
    if splink:
        theirs = splink_seconds(people, splink_timeout)
        if theirs and "timeout_s" in theirs:  # stopped: the ratio is a lower bound
            result["splink_stopped_after_s"] = theirs["timeout_s"]
            result["splink_over_ours_at_least"] = round(theirs["timeout_s"] / ours["seconds"], 2)
        elif theirs:
            result["splink_s"] = theirs["seconds"]
            result["splink_pairs"] = theirs["pairs"]
            result["splink_over_ours"] = round(theirs["seconds"] / ours["seconds"], 2)
    if big:
        large = scan(big)
        result["big"] = large
        result["growth"] = round(large["seconds"] / ours["seconds"], 2)
        result["growth_cpu"] = round(large["cpu_s"] / ours["cpu_s"], 2)  # less swayed by other programs' load
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--people", type=int, default=100_000)
    parser.add_argument("--big", type=int, default=None)
    parser.add_argument("--no-splink", action="store_true")
    parser.add_argument("--splink-timeout", type=float, default=None, help="stop Splink after this many seconds")
    parser.add_argument("--child", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args.child)
        return
    result = p6(args.people, big=args.big, splink=not args.no_splink, splink_timeout=args.splink_timeout)
    print(json.dumps(result, indent=2))
    path = ROOT / "bench" / "p6_results.json"
    path.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
