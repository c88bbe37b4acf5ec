import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Variables config.settings_test sets for the test process; a real deployment has none of them.
LEAKY_TEST_ENV = {
    "SECRET_KEY",
    "DEBUG",
    "DJANGO_SETTINGS_MODULE",
    "SECURE_SSL_REDIRECT",
    "SECURE_COOKIES",
    "ALLOWED_HOSTS",
    "DJANGO_ALLOW_ASYNC_UNSAFE",
}


def run_manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in LEAKY_TEST_ENV}
    clean.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=clean, capture_output=True, text=True, timeout=120
    )


def test_production_settings_refuse_to_start_without_secret_key():
    result = run_manage("check", DEBUG="0", SECRET_KEY="")
    assert result.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is off." in result.stderr


def test_development_settings_start_without_secret_key():
    result = run_manage("check", DEBUG="1", SECRET_KEY="")
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout


def test_check_deploy_is_clean_under_production_settings():
    result = run_manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DEBUG="0",
        SECRET_KEY="a-long-random-production-secret-key-7f3a9c1e5b2d8f4a6c0e9b7d5f3a1c8e",
        ALLOWED_HOSTS="undersigned.example.org",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


def test_argon2_is_the_first_password_hasher():
    from config import settings

    assert settings.PASSWORD_HASHERS[0] == "django.contrib.auth.hashers.Argon2PasswordHasher"


def test_the_shipped_gunicorn_settings_load_and_follow_the_environment():
    clean = {k: v for k, v in os.environ.items() if k not in LEAKY_TEST_ENV}
    clean.update(GUNICORN_WORKERS="3", GUNICORN_THREADS="5", DEBUG="1")
    script = "import runpy; c = runpy.run_path('config/gunicorn.py'); print(c['workers'], c['threads'], c['bind'])"
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=clean, capture_output=True, text=True)
    assert result.stdout.split() == ["3", "5", "127.0.0.1:8000"], result.stderr
    checked = subprocess.run(
        [sys.executable, "-m", "gunicorn", "--check-config", "-c", "config/gunicorn.py", "config.wsgi"],
        cwd=ROOT, env=clean, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert checked.returncode == 0, checked.stderr


def test_a_request_warning_is_logged_once():
    # Django's default logging gives its "django" logger a console handler of its own in DEBUG; with the root's
    # handler too, every 4xx line was printed twice.
    script = "import logging; logging.getLogger('django.request').warning('Not Found: /probe')"
    result = run_manage("shell", "-c", script, DEBUG="1")
    assert result.returncode == 0, result.stderr
    assert result.stderr.count("Not Found: /probe") == 1, result.stderr


def test_a_bad_host_header_is_logged_in_one_line_without_a_traceback():
    script = "from django.test import Client; Client(HTTP_HOST='evil.example').get('/healthz')"
    result = run_manage("shell", "-c", script, DEBUG="1")
    assert result.returncode == 0, result.stderr
    assert "Invalid HTTP_HOST header: 'evil.example'" in result.stderr
    assert "Traceback" not in result.stderr
