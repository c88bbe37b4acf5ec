"""FEBRL quality benchmark: precision, recall, F1 and blocking recall of the registry's dedup on data we did not make.

    python -m bench.febrl                       # every set and variant, in memory (the scan's matching code)
    python -m bench.febrl --db --sets febrl1    # through the database: organization link, person, chunked scan
    python -m bench.febrl --splink              # also Splink on the same records (var/quality-venv, see README)

Each FEBRL record becomes a signer: its name, a unique free-mail address (no evidence), and in the `suburb` variant its
suburb as the organization text (a field true duplicates share, with typos). The in-memory path links organization
text the way `organization_link` does (one organization per normalized name) and runs the chunked scan's code
(`chunk_of`, `find_duplicates` per chunk); `--db` runs the real services against DATABASE_URL. Results go to
bench/febrl_results.json. febrl1 and febrl2 are the tuning sets; febrl3 and febrl4 are held out.
"""

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from bench.febrl_data import SETS, VARIANTS, FebrlRecord, febrl_records, scores, set_label, true_pairs

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "febrl_results.json"
SPLINK_PYTHON = ROOT / "var" / "quality-venv" / "bin" / "python"


def email_of(record: FebrlRecord) -> str:
    return f"febrl{record.id}@gmail.com"


def person_records_in_memory(records: list[FebrlRecord], variant: str):
    """PersonRecords as the services would store them: organizations linked by normalized name, as candidates."""
    from registry.duplicate_matching import PersonRecord
    from registry.normalize import organization_name_key

    org_ids: dict[str, int] = {}
    out = []
    for record in records:
        organizations = {}
        if variant == "suburb" and organization_name_key(record.suburb):
            key = organization_name_key(record.suburb)
            organizations = {org_ids.setdefault(key, len(org_ids) + 1): record.suburb}
        out.append(
            PersonRecord(id=record.id, name=record.name, email_keys=frozenset({email_of(record)}),
                         organizations=organizations)
        )  # fmt: skip
    return out


def scan_in_memory(people, chunks: int = 8) -> set[tuple[int, int]]:
    """What `dedup_scan_chunk` computes for every chunk, without the database: the first chunk estimates the prior
    (duplicates per person), the others score with it."""
    from registry.duplicate_matching import scan_duplicates

    found: set[tuple[int, int]] = set()
    duplicates = None
    for chunk in range(chunks):
        matches, duplicates = scan_duplicates(people, chunk=(chunk, chunks), duplicates=duplicates)
        found |= {(m.a, m.b) for m in matches}
    return found


def blocking_recall(people, truth: set[tuple[int, int]]) -> float:
    """Share of true pairs that meet in at least one block (and so are ever compared)."""
    from registry.duplicate_matching import blocked_pairs

    compared = blocked_pairs(people)
    return round(len(compared & truth) / len(truth), 3) if truth else 1.0


def scan_through_database(records: list[FebrlRecord], variant: str) -> set[tuple[int, int]]:
    """Sign-up path for real: organization_link and person_for_confirmed_email per record, then the chunked scan."""
    from django.db import transaction

    from registry.duplicate_scans import CHUNKS, dedup_scan_chunk
    from registry.models import (
        AuditEvent,
        DedupScan,
        DuplicateCandidate,
        Organization,
        Person,
    )
    from registry.services import organization_link, person_for_confirmed_email

    DuplicateCandidate.objects.all().delete()
    Person.objects.all().delete()
    Organization.objects.all().delete()
    AuditEvent.objects.filter(action__startswith="registry.organization").delete()
    person_of: dict[int, int] = {}
    with transaction.atomic():
        for record in records:
            organization = None
            if variant == "suburb" and record.suburb:
                organization = organization_link(name=record.suburb)
            person = person_for_confirmed_email(
                email=email_of(record), email_key=email_of(record), name=record.name or "?",
                organization=organization, organization_name=record.suburb if variant == "suburb" else "",
            )  # fmt: skip
            person_of[person.pk] = record.id
    scan = DedupScan.objects.create(chunks_total=CHUNKS)
    for chunk in range(CHUNKS):
        dedup_scan_chunk(scan_id=scan.pk, chunk=chunk, chunks=CHUNKS)
    return {
        tuple(sorted((person_of[a], person_of[b])))
        for a, b in DuplicateCandidate.objects.values_list("person_a_id", "person_b_id")
    }


def run_ours(sets: list[str], variants: list[str], *, db: bool) -> dict:
    results = {}
    for name in sets:
        records = febrl_records(name)
        truth = true_pairs(records)
        for variant in variants:
            people = person_records_in_memory(records, variant)
            started = time.perf_counter()
            found = scan_through_database(records, variant) if db else scan_in_memory(people)
            elapsed = time.perf_counter() - started
            row = {
                **scores(found, truth),
                "blocking_recall": blocking_recall(people, truth),
                "seconds": round(elapsed, 2),
            }
            results[f"{set_label(name)}/{variant}"] = row
            print(f"ours   {set_label(name):7} {variant:7} {_line(row)}", flush=True)
    return results


def run_splink(sets: list[str], variants: list[str]) -> dict:
    if not SPLINK_PYTHON.exists():
        print(f"Splink skipped: no {SPLINK_PYTHON} (see bench/README.md)")
        return {}
    out = subprocess.run(
        [str(SPLINK_PYTHON), str(ROOT / "bench" / "febrl_splink.py"), ",".join(sets), ",".join(variants)],
        capture_output=True, text=True, check=True, cwd=ROOT,
    )  # fmt: skip
    results = json.loads(out.stdout.strip().splitlines()[-1])
    for key, row in results.items():
        name, variant = key.split("/")
        print(f"splink {name:7} {variant:7} {_line(row)}")
    return results


def _line(row: dict) -> str:
    text = f"P {row['precision']:.3f}  R {row['recall']:.3f}  F1 {row['f1']:.3f}"
    text += f"  ({row['found']} found, {row['true']} true)"
    if "blocking_recall" in row:
        text += f"  blocking recall {row['blocking_recall']:.3f}"
    return text + f"  {row['seconds']} s"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sets", default=",".join(SETS))
    parser.add_argument("--variants", default=",".join(VARIANTS))
    parser.add_argument("--db", action="store_true", help="through the services and the database (DATABASE_URL)")
    parser.add_argument("--splink", action="store_true", help="also run Splink (var/quality-venv)")
    parser.add_argument("--label", default="current")
    args = parser.parse_args()
    sets, variants = args.sets.split(","), args.variants.split(",")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("DEBUG", "1")
    import django

    django.setup()
    if args.db:
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
    results = {"ours": run_ours(sets, variants, db=args.db), "db": args.db}
    if args.splink:
        results["splink"] = run_splink(sets, variants)
    saved = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    saved[args.label] = results
    RESULTS.write_text(json.dumps(saved, indent=2) + "\n")


if __name__ == "__main__":
    sys.exit(main())
