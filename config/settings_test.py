"""Test settings: production settings with safe test values; Celery always eager (a real-worker test opts out)."""

import os

os.environ.setdefault("SECRET_KEY", "test-only-secret-key-0123456789abcdefghijklmnopqrstuvwxyz")
os.environ.setdefault("SECURE_SSL_REDIRECT", "0")
os.environ.setdefault("SECURE_COOKIES", "0")
os.environ.setdefault("ALLOWED_HOSTS", "testserver,localhost,127.0.0.1")
# A fixed key for the transparency log's checkpoints (tests only; never a deployment's key).
os.environ.setdefault(
    "TRANSPARENCY_SIGNING_KEY",
    "PRIVATE+KEY+test.undersigned.invalid/log+d60c9b4b+AbfICVcJ7Jcs+IReuZMguG1MxGZPtyE6gvlDBqigheFk",
)

from config.settings import *  # noqa: F403
from config.settings import STORAGES

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CELERY_TASK_ALWAYS_EAGER = True
# Tests run tasks eagerly; the one real-worker test switches eagerness off and uses this broker.
CELERY_BROKER_URL = CELERY_BROKER_URL or "redis://127.0.0.1:6379/15"  # noqa: F405
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
WHITENOISE_USE_FINDERS = True
PUBLIC_RESPONSE_CACHE_SECONDS = 0  # tests read their own writes; a shared-cache test turns it on
TRANSPARENCY_SYNC_ON_COMMIT = False  # tests log explicitly (letters.transparency_log, transparency.services.log_sync)
