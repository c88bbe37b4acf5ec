"""A tiny run of the benchmark harness, so it cannot rot. The full run is `make bench`, not part of the tests."""

import json
import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

ROOT = Path(__file__).resolve().parents[2]
FIGURES = {"P1", "P2", "P3", "P4", "P5", "P6", "P8"}


@pytest.mark.postgres
def test_bench_harness_produces_every_figure(tmp_path, settings):
    db = settings.DATABASES["default"]
    name = f"undersigned_benchsmoke_{os.getpid()}"
    admin = (
        f"host={db['HOST'] or '127.0.0.1'} port={db['PORT'] or 5432} user={db['USER'] or 'postgres'} dbname=postgres"
    )
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        output = tmp_path / "results.json"
        user = db["USER"] or "postgres"
        env = {
            **os.environ,
            "DATABASE_URL": f"postgres://{user}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{name}",
        }
        env.pop("DJANGO_SETTINGS_MODULE", None)
        args = ["--quick", "--signatures", "300", "--people", "300", "--seconds", "0.4", "--output", str(output)]
        result = subprocess.run(
            [sys.executable, "-m", "bench.run", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=240
        )
        assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
        figures = json.loads(output.read_text())
        assert set(figures["verdicts"]) == FIGURES
        assert figures["P1"]["c32"]["sign"]["requests"] > 0
        assert figures["P1"]["c32"]["sign"]["errors"] == 0
        assert isinstance(figures["P1"]["P2_letter_updates"], int)
        assert figures["P3"]["as_of_ms_big"] > 0
        assert figures["P4"]["list"]["errors"] == 0
        assert figures["P5"]["bytes"] > 300 * 50
        # Target 0.98; the new matcher's bounded blocks reach 0.87 on the synthetic near-name sample (issue 18, known
        # miss, docs/performance.md): the verdict reports it, the smoke checks the figure is measured and sane.
        assert figures["P6"]["recall_vs_naive"] >= 0.8
        launch = figures["P8"]
        assert launch["sign_mix"]["requests"] > 0 and launch["sign_alone"]["requests"] > 0
        assert launch["first_confirmations"] == launch["stored"]["pending_confirmed"] > 0
        assert launch["read_mix"]["page"]["requests"] > 0
        assert launch["errors"] == launch["server_errors_5xx"] == 0
        assert isinstance(launch["deadlocks"], int)
        paced = launch["paced"]  # the open-loop variant, beside the figure
        assert paced["sign"]["requests"] > 0 and paced["errors"] == paced["server_errors_5xx"] == 0
        assert paced["first_confirmations"] == paced["pending_confirmed_stored"] > 0
        for figure in sorted(FIGURES):
            assert f"\n{figure} " in result.stdout
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
