"""`make run`: links in printed emails point at the port it serves on, unless SITE_URL is configured."""

import os
import shlex
import subprocess
import sys

import pytest

from tests.test_settings import LEAKY_TEST_ENV, ROOT

MAKE_ENV = {"SITE_URL", "MAKEFLAGS", "MFLAGS", "MAKELEVEL"}


def runserver_line(cwd, *make_args: str, **env: str) -> str:
    """The runserver command `make run` would run from `cwd` (a dry run; demo and its setup are not remade)."""
    clean = {k: v for k, v in os.environ.items() if k not in LEAKY_TEST_ENV | MAKE_ENV}
    clean.update(env)
    result = subprocess.run(
        ["make", "-n", "-o", "demo", "-f", str(ROOT / "Makefile"), "run", *make_args],
        cwd=cwd,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    [line] = [line for line in result.stdout.splitlines() if " runserver " in line]
    return line


def site_url_under(line: str) -> str:
    """SITE_URL as the settings read it with the environment that `line` gives runserver."""
    prefix = line.split(" .venv/bin/python ", 1)[0]
    clean = {k: v for k, v in os.environ.items() if k not in LEAKY_TEST_ENV | MAKE_ENV}
    code = "from django.conf import settings; print(settings.SITE_URL)"
    result = subprocess.run(
        [
            "bash",
            "-c",
            f"{prefix} DJANGO_SETTINGS_MODULE=config.settings {shlex.quote(sys.executable)} -c {shlex.quote(code)}",
        ],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


@pytest.mark.skipif(not (ROOT / "Makefile").exists(), reason="no Makefile")
def test_site_url_follows_host_and_port(tmp_path):
    line = runserver_line(tmp_path, "PORT=8101")
    assert line.endswith("manage.py runserver 127.0.0.1:8101")
    assert "SITE_URL=http://127.0.0.1:8101 " in line
    if not (ROOT / ".env").exists():
        assert site_url_under(line) == "http://127.0.0.1:8101"
    assert "SITE_URL=http://localhost:8102 " in runserver_line(tmp_path, "HOST=localhost", "PORT=8102")


def test_site_url_from_the_environment_is_kept(tmp_path):
    line = runserver_line(tmp_path, "PORT=8101", SITE_URL="https://letters.example.org")
    assert "SITE_URL=" not in line


def test_site_url_from_dot_env_is_kept(tmp_path):
    (tmp_path / ".env").write_text("DEBUG=1\nSITE_URL=https://letters.example.org\n")
    assert "SITE_URL=" not in runserver_line(tmp_path, "PORT=8101")


def test_a_dot_env_without_site_url_still_follows_the_port(tmp_path):
    (tmp_path / ".env").write_text("DEBUG=1\n# SITE_URL=https://letters.example.org\n")
    assert "SITE_URL=http://127.0.0.1:8101 " in runserver_line(tmp_path, "PORT=8101")
