"""P7: an import of N rows end to end ÷ a raw COPY of the same file into a scratch table, in the same run; the
worker's RSS growth; signing throughput while an import runs ÷ signing alone (gunicorn, as in P1).

End to end = what an organizer's upload, the click on "start" and the job do: parse, check every row with the
signing rules, match organizations, find duplicates (preview, whose checked rows the import keeps), the start's
refreshed counts, then the job's batches (organizations linked or created, people, signatures,
events, audit rows, verification records, export lines and log queue by trigger). Counts are folded by beat from the
events, as for any signature, and are not part of the timing.

Usage: DATABASE_URL=postgres://postgres@127.0.0.1:5432/undersigned_bench python -m bench.imports [--rows 100000]
       [--mode vouched|confirm] [--signing-seconds 10]
"""

import argparse
import csv
import gc
import io
import json
import os
import random
import threading
import time
from pathlib import Path

import psutil

from bench.run import Server, setup_django

RESULTS = Path(__file__).resolve().parent / "results_p7.json"
ORGANIZATIONS = ["Adobe", "NVIDIA Corporation", "Zoom", "Apple Inc.", "Meta", "Bugcrowd", "HackerOne", "Google"]


def spreadsheet(rows: int, seed: int = 7) -> bytes:
    """A signers' file like an organizer's: names, addresses, titles, a few hundred organizations, some typos."""
    rng = random.Random(seed)
    given = ["Ada", "Grace", "Alan", "Katie", "Casey", "Alex", "Jen", "Chris", "Dan", "Eva", "Lin", "Omar", "Priya"]
    family = ["Lovelace", "Hopper", "Turing", "Moussouris", "Ellis", "Rice", "Easterly", "Wysopal", "Kaminsky"]
    organizations = ORGANIZATIONS + [f"Security Lab {i}" for i in range(400)]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["Name", "Email", "Title", "Organization", "Signed at"])
    for n in range(rows):
        name = f"{rng.choice(given)} {rng.choice(family)}-{n}"
        writer.writerow([name, f"signer{n}@example{n % 97}.org", "Security Engineer", rng.choice(organizations), ""])
    return out.getvalue().encode()


def copy_seconds(data: bytes) -> float:
    """A raw COPY of the same bytes into a scratch table: the floor any import is measured against."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_import_scratch")
        cursor.execute(
            "CREATE UNLOGGED TABLE bench_import_scratch (name text, email text, title text, organization text, "
            "signed_at text)"
        )
        started = time.perf_counter()
        with cursor.cursor.copy("COPY bench_import_scratch FROM STDIN WITH (FORMAT csv, HEADER true)") as copy:
            copy.write(data)
        elapsed = time.perf_counter() - started
        cursor.execute("DROP TABLE bench_import_scratch")
    return elapsed


def backend_pid() -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def backend_cpu_seconds(pid: int | None = None) -> float:
    """CPU seconds used so far by a PostgreSQL backend (this thread's by default; a local server: /proc), or 0."""
    pid = pid or backend_pid()
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def cpu_seconds() -> tuple[float, float]:
    """(this process, its database backend): CPU seconds so far; load from other programs does not inflate them."""
    return time.process_time(), backend_cpu_seconds()


def import_prepare(data: bytes, mode: str, tag: str) -> dict:
    """An organizer's upload (a web request: parse, check every row, preview) and the click on start."""
    from importing import services
    from importing.models import SignatureImport
    from importing.services import import_start, import_upload
    from letters.models import Letter
    from letters.services.letters import letter_create
    from letters.services.lifecycle import letter_open
    from tests.factories import UserFactory

    services._enqueue = lambda import_id: None  # the job runs in `import_job`, as a worker would
    letter = letter_create(slug=f"bench-import-{tag}", title="P7", body="Text.", created_by=None)
    letter_open(letter=letter, actor=None)
    letter = Letter.objects.get(pk=letter.pk)
    user = UserFactory(username=f"bench-importer-{tag}")
    process = psutil.Process()
    rss_before = process.memory_info().rss
    cpu_before = cpu_seconds()
    started = time.perf_counter()
    uploaded = import_upload(letter=letter, data=data, filename="signers.csv", actor=user)
    previewed = time.perf_counter()
    rss_upload = process.memory_info().rss
    import_id, rows = uploaded.signature_import.pk, len(uploaded.preview.rows) if uploaded.preview else 0
    del uploaded  # the upload is a web request; the job runs in a worker that never holds the preview
    gc.collect()
    clicked = time.perf_counter()
    import_start(signature_import=SignatureImport.objects.get(pk=import_id), mode=mode, actor=user)
    start_done = time.perf_counter()
    cpu_after = cpu_seconds()
    return {
        "import_id": import_id,
        "letter_id": letter.pk,
        "rows": rows,
        "preview_seconds": previewed - started,
        "start_seconds": start_done - clicked,
        "cpu": (cpu_after[0] - cpu_before[0], cpu_after[1] - cpu_before[1]),
        "upload_rss_growth_mb": round((rss_upload - rss_before) / 1e6, 1),
    }


def import_job(prepared: dict) -> dict:
    """The worker's part: the job's batches, to the end."""
    from importing.jobs import import_run
    from importing.models import SignatureImport
    from importing.pacing import Pacer
    from letters.models import Signature

    process = psutil.Process()
    rss_before = process.memory_info().rss
    prepared["backend_pid"] = backend_pid()  # so that another thread can read what the job's backend spends
    slept: list[float] = []  # the job's pauses for signers (importing.pacing): part of its wall time, no CPU
    after_batch = Pacer.after_batch

    def counted(pacer: Pacer, seconds: float) -> float:
        slept.append(after_batch(pacer, seconds))
        return slept[-1]

    Pacer.after_batch = counted  # type: ignore[method-assign]
    cpu_before = cpu_seconds()
    started = time.perf_counter()
    try:
        import_run(signature_import_id=prepared["import_id"])
    finally:
        Pacer.after_batch = after_batch  # type: ignore[method-assign]
    finished = time.perf_counter()
    cpu_after = cpu_seconds()
    rss_after = process.memory_info().rss
    done = SignatureImport.objects.get(pk=prepared["import_id"])
    return {
        "job_seconds": round(finished - started, 2),
        "job_paced_seconds": round(sum(slept), 2),
        "job_cpu_seconds": {
            "worker": round(cpu_after[0] - cpu_before[0], 2),
            "database": round(cpu_after[1] - cpu_before[1], 2),
        },
        "created": done.rows_created,
        "signatures": Signature.objects.filter(letter_id=prepared["letter_id"]).count(),
        "worker_rss_growth_mb": round((rss_after - rss_before) / 1e6, 1),
    }


def import_seconds(data: bytes, mode: str, tag: str) -> dict:
    prepared = import_prepare(data, mode, tag)
    job = import_job(prepared)
    seconds = prepared["preview_seconds"] + prepared["start_seconds"] + job["job_seconds"]
    return {
        "seconds": round(seconds, 2),
        "preview_seconds": round(prepared["preview_seconds"], 2),
        "start_seconds": round(prepared["start_seconds"], 2),
        **job,
        "rows_per_second": round(prepared["rows"] / seconds, 1),
        "upload_and_start_cpu_seconds": {
            "worker": round(prepared["cpu"][0], 2),
            "database": round(prepared["cpu"][1], 2),
        },
        "upload_rss_growth_mb": prepared["upload_rss_growth_mb"],
    }


SIGNING_ERRORS: list[int] = []  # answers other than 202 in each signing run, reported beside the rates


def signing_rps(server: Server, seconds: float, clients: int = 16) -> float:
    """Signatures accepted (202) per second; any other answer is counted in SIGNING_ERRORS, not in the rate."""
    from bench.load import load

    url = f"{server.url}/api/v1/letters/bench-sign/signatures/"
    result = load(url, method="POST", body="sign", clients=clients, seconds=seconds, expect=(202,))
    SIGNING_ERRORS.append(result.errors)
    return (result.requests - result.errors) / result.seconds if result.seconds else 0.0


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--mode", default="vouched", choices=["vouched", "confirm"])
    parser.add_argument("--signing-seconds", type=float, default=10.0)
    args = parser.parse_args(argv)
    database_url = os.environ["DATABASE_URL"]
    setup_django(database_url)
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from letters.models import Letter

    if not Letter.objects.filter(slug="bench-sign").exists():
        call_command("bench_seed", signatures=0, letter="bench-sign", stdout=open(os.devnull, "w"))  # noqa: SIM115
    data = spreadsheet(args.rows)
    tag = str(time.time_ns())
    copies = [copy_seconds(data) for _ in range(3)]
    copy_best = min(copies)
    result: dict = {"rows": args.rows, "mode": args.mode, "file_mb": round(len(data) / 1e6, 2)}
    result["copy_seconds"] = round(copy_best, 3)
    result["import"] = import_seconds(data, args.mode, tag)
    result["import_over_copy"] = round(result["import"]["seconds"] / copy_best, 1)
    spent = result["import"]
    cpu = sum(spent["upload_and_start_cpu_seconds"].values()) + sum(spent["job_cpu_seconds"].values())
    result["import_cpu_seconds"] = round(cpu, 2)  # the machine's load from others does not inflate CPU seconds
    result["import_cpu_over_copy"] = round(cpu / copy_best, 1)
    if args.signing_seconds > 0:
        server = Server(database_url)
        try:
            signing_rps(server, 2)  # warm up
            alone = signing_rps(server, args.signing_seconds)
            # The upload and its preview are one web request; "while an import runs" is while its job runs.
            prepared = import_prepare(spreadsheet(args.rows, seed=8), args.mode, tag + "b")
            during: dict = {}
            worker = threading.Thread(target=lambda: during.update(import_job(prepared)))
            worker.start()
            time.sleep(1.0)
            window = time.perf_counter(), time.process_time(), backend_cpu_seconds(prepared["backend_pid"])
            while_importing = signing_rps(server, args.signing_seconds)
            signing_ended = time.perf_counter()
            # What the job spent while the signers signed (this process is the job's worker; the load generator
            # and gunicorn are other processes), against what it spends alone: pacing, free of others' load.
            used = time.process_time() - window[1] + backend_cpu_seconds(prepared["backend_pid"]) - window[2]
            share_during = used / (signing_ended - window[0])
            worker.join()
            during["ran_past_signing"] = round(time.perf_counter() - signing_ended, 2)
            after = signing_rps(server, args.signing_seconds)  # alone again: the machine is shared, take both
            result["signing"] = {
                "alone_before_and_after_rps": [round(alone, 1), round(after, 1)],
                "during_import_rps": round(while_importing, 1),
                "ratio": round(2 * while_importing / (alone + after), 3) if alone + after else None,
                "import_job_during_seconds": during.get("job_seconds"),
                "job_cpu_per_second_during_signing": round(share_during, 3),
                "job_cpu_per_second_alone": round(
                    sum(result["import"]["job_cpu_seconds"].values()) / result["import"]["job_seconds"], 3
                ),
                "job_ran_after_signing_seconds": during.get("ran_past_signing"),
                "errors_warmup_alone_during_after": SIGNING_ERRORS,
            }
        finally:
            server.stop()
    result["target"] = "import ÷ COPY ≤ 10× (guide: ≤ 30 s on 2 cores); RSS growth < 200 MB; signing during ≥ 0.8"
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
