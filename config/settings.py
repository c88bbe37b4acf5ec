"""Settings for Undersigned, read from the environment (see README and .env.example)."""

from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=False)
DEV_SECRET_KEY = "django-insecure-development-only-key-never-use-in-production"
SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = DEV_SECRET_KEY

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "csp",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "registry",
    "transparency",
    "letters",
    "organizing",
    "importing",
    "moderation",
    "webhooks",
    "api",
    "web",
    "health_check",
    "ops",
]

MIDDLEWARE = [
    # First, so every answer under /api/ that Django or a middleware builds keeps the API's error shape.
    "api.middleware.APIErrorShapeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.http.ConditionalGetMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        # Project-wide overrides of third-party templates (django-allauth's pages in the site's look).
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# Database: SQLite by default; PostgreSQL through psycopg 3 with Django's native pool.
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'var' / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"].setdefault("OPTIONS", {})
    # Prepared statements only ever apply to server-binding cursors (the one-statement signature insert); the ORM
    # binds on the client. Set DATABASE_PREPARED_STATEMENTS=0 behind a pooler that cannot keep them.
    if env.bool("DATABASE_PREPARED_STATEMENTS", default=True):
        DATABASES["default"]["OPTIONS"]["prepare_threshold"] = 0
    if env.bool("DATABASE_POOL", default=True):
        DATABASES["default"]["OPTIONS"]["pool"] = {
            "min_size": env.int("DATABASE_POOL_MIN", default=2),
            "max_size": env.int("DATABASE_POOL_MAX", default=20),
            "timeout": 10,
        }
        DATABASES["default"]["CONN_MAX_AGE"] = 0
        # With the pool, Django checks each connection on checkout (psycopg_pool's check_connection, one empty round
        # trip): a connection broken by a PostgreSQL restart is replaced before a request uses it.
        DATABASES["default"]["CONN_HEALTH_CHECKS"] = env.bool("DATABASE_POOL_CHECK", default=True)
elif DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"].setdefault("OPTIONS", {})
    DATABASES["default"]["OPTIONS"].update({"timeout": 20, "transaction_mode": "IMMEDIATE"})
DATABASES["default"]["ATOMIC_REQUESTS"] = False
IS_POSTGRES = DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    # Short socket timeouts: a hung Redis costs a request at most this long (config.cache then skips it for a second).
    REDIS_TIMEOUT = env.float("REDIS_TIMEOUT_SECONDS", default=0.5)
    CACHES = {
        "default": {
            "BACKEND": "config.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {"socket_connect_timeout": REDIS_TIMEOUT, "socket_timeout": REDIS_TIMEOUT},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "undersigned"}}

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]
# Django's users and staff, allauth's login by email, and per-letter object permissions (organizing/permissions.py).
AUTHENTICATION_BACKENDS = [
    "rules.permissions.ObjectPermissionBackend",
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Organizer accounts (django-allauth): sign-up and login by email, verification mandatory, two-factor login (TOTP,
# WebAuthn/passkeys, recovery codes). Rate limits stay at allauth's defaults (on: login failures, sign-ups, resets),
# counted in the cache. Its emails go out through the outbox (organizing.accounts.AccountAdapter).
ACCOUNT_ADAPTER = "organizing.accounts.AccountAdapter"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_DEFAULT_HTTP_PROTOCOL = urlsplit(SITE_URL).scheme or "https"
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[Undersigned] "
# Rate limits count per client address: behind proxies, the same trust as the signing limits.
ALLAUTH_TRUSTED_PROXY_COUNT = env.int("NUM_PROXIES", default=0)
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/manage/"
MFA_SUPPORTED_TYPES = ["totp", "webauthn", "recovery_codes"]
MFA_PASSKEY_LOGIN_ENABLED = True
MFA_TOTP_ISSUER = "Undersigned"
# Browsers allow WebAuthn on http://localhost only; a development server elsewhere needs this.
MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = DEBUG
# Co-organizer invitations (organizing.services.organizer_invitation_create): how long a link stays valid.
ORGANIZER_INVITATION_TTL = timedelta(days=env.int("ORGANIZER_INVITATION_TTL_DAYS", default=7))

LANGUAGE_CODE = "en"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "var" / "static"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = DEBUG

# Email: console by default so a newcomer sees the confirmation link in the terminal.
EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Undersigned <noreply@undersigned.invalid>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# A hanging SMTP server must not hold a worker: each connect and each command waits at most this long.
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)
EMAIL_MESSAGE_ID_DOMAIN = env.str("EMAIL_MESSAGE_ID_DOMAIN", default="") or (urlsplit(SITE_URL).hostname or "localhost")
# Outbox delivery: a failed try is retried after base × 2^(n-1) seconds (with jitter, capped), until the attempts run
# out and the message is marked undeliverable. The defaults spread 12 tries over about five hours.
OUTBOX_RETRY_BASE_SECONDS = env.float("OUTBOX_RETRY_BASE_SECONDS", default=30.0)
OUTBOX_RETRY_MAX_SECONDS = env.float("OUTBOX_RETRY_MAX_SECONDS", default=3600.0)
OUTBOX_MAX_ATTEMPTS = env.int("OUTBOX_MAX_ATTEMPTS", default=12)
OUTBOX_RESEND_EVERY_SECONDS = env.float("OUTBOX_RESEND_EVERY_SECONDS", default=15.0)

# Celery: without a broker, tasks run eagerly in process (after commit).
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
# Without a broker there is no beat: `runserver` then runs beat's schedule in a thread of its own (ops.devbeat).
DEV_BEAT = env.bool("DEV_BEAT", default=DEBUG and not CELERY_BROKER_URL)
CELERY_TASK_EAGER_PROPAGATES = False
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 300
CELERY_TASK_SOFT_TIME_LIMIT = 240
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600, "socket_connect_timeout": 2}
# A worker outlives a broker outage: it retries the connection forever, and redis:// brokers use kombu's transport
# with the fix in config.celery.RedisChannel (Celery 5.7 workers otherwise exit on reconnecting).
CELERY_BROKER_CONNECTION_MAX_RETRIES = None
if CELERY_BROKER_URL.startswith("redis://"):
    CELERY_BROKER_TRANSPORT = "config.celery:RedisTransport"
# Tasks still running when the broker goes away finish: they are idempotent, and an outbox email cut off mid-send
# would wait for its claim to lapse.
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = False
# Two queues, each with its own worker (README, "Running with PostgreSQL, Redis, Celery workers and beat"): "celery"
# for the short, time-critical tasks (outbox, counts, checkpoints, webhooks, alerts, opening letters, the beat
# tasks that re-queue stalled jobs), "bulk" for those that run for minutes or hours and that nobody waits for
# (imports, invalidations and their undo, duplicate scans and checks, re-consent batches, retention sweeps), so
# that a long job never holds a time-critical one up. Eager mode (no broker) ignores routing.
CELERY_TASK_DEFAULT_QUEUE = "celery"
BULK_QUEUE = "bulk"
BULK_TASKS = (
    "importing.tasks.import_run",
    "importing.tasks.imports_previews_expire",
    "moderation.tasks.invalidation_run",
    "registry.tasks.dedup_scan_chunk",
    "registry.tasks.duplicates_check_requested",
    "registry.tasks.person_duplicates_check",
    "letters.tasks.letter_reconsent_request",
    "letters.tasks.letter_reconsent_due",
    "letters.tasks.letter_counts_reconcile",
    "letters.tasks.signatures_raw_ip_expire",
)
CELERY_TASK_ROUTES = {name: {"queue": BULK_QUEUE} for name in BULK_TASKS}
CELERY_BEAT_SCHEDULE = {
    "outbox-resend-stale": {"task": "letters.tasks.outbox_resend_stale", "schedule": OUTBOX_RESEND_EVERY_SECONDS},
    "counts-refresh": {"task": "letters.tasks.letter_counts_refresh", "schedule": 2.0},
    "counts-reconcile": {"task": "letters.tasks.letter_counts_reconcile", "schedule": 600.0},
    "letters-open-due": {"task": "letters.tasks.letters_open_due", "schedule": 15.0},
    "letters-reconsent-due": {"task": "letters.tasks.letter_reconsent_due", "schedule": 300.0},
}

# Transparency log (transparency/, docs/transparency.md): one per deployment, its checkpoints signed with this key
# (note-signer form PRIVATE+KEY+<name>+<id>+<key>); without TRANSPARENCY_SIGNING_KEY the key file is read
# (`make run` writes a development key there).
TRANSPARENCY_LOG = env.bool("TRANSPARENCY_LOG", default=True)
TRANSPARENCY_SIGNING_KEY = env.str("TRANSPARENCY_SIGNING_KEY", default="")
TRANSPARENCY_SIGNING_KEY_FILE = env.str(
    "TRANSPARENCY_SIGNING_KEY_FILE", default=str(BASE_DIR / "var" / "transparency-signing.key")
)
TRANSPARENCY_ORIGIN = env.str("TRANSPARENCY_ORIGIN", default="") or f"{urlsplit(SITE_URL).netloc or 'localhost'}/log"
TRANSPARENCY_CHECKPOINT_EVERY_SECONDS = env.float("TRANSPARENCY_CHECKPOINT_EVERY_SECONDS", default=2.0)
# Without a broker there is no beat: in development the log is brought up to date after each public change commits.
TRANSPARENCY_SYNC_ON_COMMIT = env.bool("TRANSPARENCY_SYNC_ON_COMMIT", default=DEBUG and not CELERY_BROKER_URL)
CELERY_BEAT_SCHEDULE["transparency-checkpoint"] = {
    "task": "transparency.tasks.checkpoint_publish",
    "schedule": TRANSPARENCY_CHECKPOINT_EVERY_SECONDS,
}

# Duplicate check of confirmed people (registry.duplicate_scans.duplicates_check_requested): each confirmation
# writes a request in its transaction; beat checks everyone asked for since its last run, each person once, for at
# most the budget a run (the rest waits for the next run, never lost).
DEDUP_CHECK_EVERY_SECONDS = env.float("DEDUP_CHECK_EVERY_SECONDS", default=10.0)
DEDUP_CHECK_BUDGET_SECONDS = env.float("DEDUP_CHECK_BUDGET_SECONDS", default=60.0)
CELERY_BEAT_SCHEDULE["duplicates-check-requested"] = {
    "task": "registry.tasks.duplicates_check_requested",
    "schedule": DEDUP_CHECK_EVERY_SECONDS,
    "options": {"expires": DEDUP_CHECK_EVERY_SECONDS},  # behind a long bulk job, one run does for all
}

# Spreadsheet imports (importing.files): refused beyond these, with a message, before anything is stored.
IMPORT_MAX_BYTES = env.int("IMPORT_MAX_BYTES", default=20_000_000)
IMPORT_MAX_ROWS = env.int("IMPORT_MAX_ROWS", default=200_000)
IMPORT_MAX_CELL_CHARS = env.int("IMPORT_MAX_CELL_CHARS", default=10_000)
IMPORT_MAX_XLSX_UNCOMPRESSED_BYTES = env.int("IMPORT_MAX_XLSX_UNCOMPRESSED_BYTES", default=200_000_000)
# Files up to this many valid rows are compared with the registry's people in the preview (larger: after the import).
IMPORT_PREVIEW_PEOPLE_ROWS = env.int("IMPORT_PREVIEW_PEOPLE_ROWS", default=2_000)
# An import job yields to signers (importing.pacing): while others commit more than this many transactions a second,
# it sleeps FACTOR times each batch's duration (at most MAX seconds); 0 never yields.
IMPORT_YIELD_FACTOR = env.float("IMPORT_YIELD_FACTOR", default=3.0)
IMPORT_YIELD_MAX_SECONDS = env.float("IMPORT_YIELD_MAX_SECONDS", default=5.0)
IMPORT_YIELD_BUSY_COMMITS_PER_SECOND = env.float("IMPORT_YIELD_BUSY_COMMITS_PER_SECOND", default=10.0)
# A bulk invalidation (or its undo) yields the same way, by this factor (moderation.services.invalidation_run).
INVALIDATION_YIELD_FACTOR = env.float("INVALIDATION_YIELD_FACTOR", default=2.0)
# Signer invitations (importing.invitations): how long a link stays valid, how many reminders an organizer may send.
SIGNER_INVITATION_TTL = timedelta(days=env.int("SIGNER_INVITATION_TTL_DAYS", default=21))
SIGNER_INVITATION_MAX_REMINDERS = env.int("SIGNER_INVITATION_MAX_REMINDERS", default=2)
CELERY_BEAT_SCHEDULE["imports-resume-stalled"] = {"task": "importing.tasks.imports_resume_stalled", "schedule": 60}
# An upload left in preview this long is discarded (hourly): its file and checked rows hold people never imported.
IMPORT_PREVIEW_TTL = timedelta(days=env.int("IMPORT_PREVIEW_TTL_DAYS", default=7))
CELERY_BEAT_SCHEDULE["imports-previews-expire"] = {"task": "importing.tasks.imports_previews_expire", "schedule": 3600}

# Client addresses (letters.ipaddrs, letters.services.privacy): raw ones are dropped after the retention window;
# keyed hashes of the address and of its /24 or /64 stay for moderation. Unset key: derived from SECRET_KEY.
IP_HASH_KEY = env("IP_HASH_KEY", default="")
IP_RETENTION_DAYS = env.int("IP_RETENTION_DAYS", default=30)
CELERY_BEAT_SCHEDULE["signatures-raw-ip-expire"] = {"task": "letters.tasks.signatures_raw_ip_expire", "schedule": 3600}

# Bulk invalidation (moderation): criteria matching more than this share of a letter's live signatures need a
# second, explicit confirmation.
INVALIDATION_CONFIRM_SHARE = env.float("INVALIDATION_CONFIRM_SHARE", default=0.2)
CELERY_BEAT_SCHEDULE["invalidations-resume-stalled"] = {
    "task": "moderation.tasks.invalidations_resume_stalled",
    "schedule": 60,
}

# Trending alerts (moderation.alerts): new signatures per letter in a sliding window, by address (keyed hash), by
# /24 or /64 network and by email domain. A domain alerts past its count and past a share of the letter's window;
# common webmail domains need their own, much higher count (0: never alerted on). Alerts mark, they never block.
ALERT_WINDOW_SECONDS = env.int("ALERT_WINDOW_SECONDS", default=600)
ALERT_IP_THRESHOLD = env.int("ALERT_IP_THRESHOLD", default=20)
ALERT_PREFIX_THRESHOLD = env.int("ALERT_PREFIX_THRESHOLD", default=50)
ALERT_DOMAIN_THRESHOLD = env.int("ALERT_DOMAIN_THRESHOLD", default=50)
ALERT_DOMAIN_SHARE = env.float("ALERT_DOMAIN_SHARE", default=0.3)
ALERT_WEBMAIL_DOMAIN_THRESHOLD = env.int("ALERT_WEBMAIL_DOMAIN_THRESHOLD", default=1000)
ALERT_WEBMAIL_DOMAINS = set(
    env.list(
        "ALERT_WEBMAIL_DOMAINS",
        default=[
            "gmail.com", "outlook.com", "hotmail.com", "live.com", "msn.com", "yahoo.com", "icloud.com", "me.com",
            "aol.com", "proton.me", "protonmail.com", "gmx.de", "gmx.net", "web.de", "mail.ru", "yandex.ru",
            "fastmail.com", "zoho.com", "orange.fr", "free.fr", "t-online.de", "qq.com", "163.com",
        ],
    )
)  # fmt: skip
ALERT_QUIET_SECONDS = env.int("ALERT_QUIET_SECONDS", default=900)
ALERT_SCAN_EVERY_SECONDS = env.float("ALERT_SCAN_EVERY_SECONDS", default=30.0)
CELERY_BEAT_SCHEDULE["alerts-scan"] = {
    "task": "moderation.tasks.alerts_scan",
    "schedule": ALERT_SCAN_EVERY_SECONDS,
    "options": {"expires": ALERT_SCAN_EVERY_SECONDS},
}

# Milestones (letters.counts): public counts announced as milestone.reached; owners add their own per letter.
MILESTONE_THRESHOLDS = env.list(
    "MILESTONE_THRESHOLDS", cast=int, default=[100, 250, 500, 1000, 2500, 5000, 10000, 25000, 50000, 100000]
)

# Webhooks (webhooks/): Standard Webhooks v1, delivered by beat's fan-out and send tasks.
WEBHOOK_ALLOW_HTTP = env.bool("WEBHOOK_ALLOW_HTTP", default=DEBUG)  # plain http:// endpoints (development only)
# Networks (CIDR) a receiver may resolve to although private, loopback or link-local; empty: public addresses only.
WEBHOOK_ALLOWED_NETWORKS = env.list(
    "WEBHOOK_ALLOWED_NETWORKS", default=["127.0.0.0/8", "::1/128"] if DEBUG else []
)  # development: a receiver on this machine (manage.py webhooks_receive)
WEBHOOK_CONNECT_TIMEOUT_SECONDS = env.float("WEBHOOK_CONNECT_TIMEOUT_SECONDS", default=2.0)
WEBHOOK_TIMEOUT_SECONDS = env.float("WEBHOOK_TIMEOUT_SECONDS", default=5.0)
WEBHOOK_ENDPOINT_CONCURRENCY = env.int("WEBHOOK_ENDPOINT_CONCURRENCY", default=4)  # deliveries in flight per endpoint
WEBHOOK_SEND_THREADS = env.int("WEBHOOK_SEND_THREADS", default=16)
WEBHOOK_SECRET_OVERLAP = timedelta(hours=env.float("WEBHOOK_SECRET_OVERLAP_HOURS", default=24))
WEBHOOK_SECRETS_KEY = env.str("WEBHOOK_SECRETS_KEY", default="")  # encrypts stored secrets; unset: from SECRET_KEY
CELERY_BEAT_SCHEDULE["webhooks-fan-out"] = {"task": "webhooks.tasks.webhooks_fan_out", "schedule": 2.0}
CELERY_BEAT_SCHEDULE["webhooks-send-due"] = {"task": "webhooks.tasks.webhooks_send_due", "schedule": 2.0}

# Signing policy.
SIGNATURE_CONFIRM_TOKEN_TTL = timedelta(days=env.int("SIGNATURE_CONFIRM_TOKEN_TTL_DAYS", default=7))
SIGNATURE_MAX_EMAILS = 5
SENIOR_TITLE_WORDS = env.list(
    "SENIOR_TITLE_WORDS",
    default=[
        "ceo",
        "cto",
        "ciso",
        "cfo",
        "coo",
        "founder",
        "co-founder",
        "president",
        "director",
        "chair",
        "chief",
        "vice president",
        "vp",
        "head",
        "partner",
        "secretary",
        "minister",
    ],
)
# Number of trusted reverse proxies in front of the app; 0 means X-Forwarded-For is ignored.
NUM_PROXIES = env.int("NUM_PROXIES", default=0)
SIGN_RATE_LIMITS = {
    "ip": [(env.int("SIGN_RATE_IP_BURST", default=10), 60), (env.int("SIGN_RATE_IP_SUSTAINED", default=100), 3600)],
    "domain": [
        (env.int("SIGN_RATE_DOMAIN_BURST", default=30), 60),
        (env.int("SIGN_RATE_DOMAIN_SUSTAINED", default=500), 3600),
    ],
}

# Request bodies: a signature is well under 4 KB; admin forms (a letter's text) stay far below these.
DATA_UPLOAD_MAX_MEMORY_SIZE = 256 * 1024
DATA_UPLOAD_MAX_NUMBER_FIELDS = 500

REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.TokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    # JSON only, depth-limited: the public web form is in web/, so form and multipart bodies have no API use.
    "DEFAULT_PARSER_CLASSES": ["api.parsers.JSONParser"],
    "DEFAULT_THROTTLE_CLASSES": ["api.throttling.AnonRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"anon": env.str("API_ANON_RATE", default="600/minute")},
    "EXCEPTION_HANDLER": "api.exceptions.exception_handler",
    "NUM_PROXIES": NUM_PROXIES,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Undersigned API",
    "DESCRIPTION": "Open-letter signatory registry: who signed, verified how, and how many at any moment.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {"LetterStatusEnum": "letters.models.Letter.Status"},
    # config/converters.py: `<num:…>` is an integer a bigint column can hold.
    "PATH_CONVERTER_OVERRIDES": {"num": {"type": "integer", "minimum": 0, "maximum": 10**18 - 1}},
}

# Security headers; the production values apply whenever DEBUG is off.
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
if not DEBUG:
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = env.bool("SECURE_COOKIES", default=True)
    CSRF_COOKIE_SECURE = env.bool("SECURE_COOKIES", default=True)

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "filters": {"without_traceback": {"()": "config.logfilters.WithoutTraceback"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        # What any client can cause (a bad Host header, an oversized or malformed body) is one line, not a stack.
        # A logger's filters see only records logged on it, so each of Django's SuspiciousOperation loggers is named.
        **{
            f"django.security.{name}": {"filters": ["without_traceback"]}
            for name in (
                "DisallowedHost",
                "DisallowedRedirect",
                "RequestDataTooBig",
                "TooManyFieldsSent",
                "TooManyFilesSent",
                "SuspiciousMultipartForm",
                "SuspiciousFileOperation",
                "SuspiciousOperation",
            )
        },
        # Django's own default config gives "django" a console handler too, so each 4xx/5xx line was printed twice
        # (once there, once by the root it propagates to): the root's handler is the only one.
        "django": {"handlers": [], "level": "INFO", "propagate": True},
        "django.db.backends": {"level": "INFO"},
        "celery.app.trace": {"level": "WARNING"},
        "httpx": {"level": "WARNING"},  # one INFO line per webhook POST otherwise
    },
}

BENCH = env.bool("BENCH", default=False)
# Public counts are at most 5 s stale by design; identical reads share one rendered answer for this long.
PUBLIC_RESPONSE_CACHE_SECONDS = env.int("PUBLIC_RESPONSE_CACHE_SECONDS", default=2)

# Operations (ops/): /healthz, /readyz and /metrics.
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")  # unset: /metrics answers 404
METRICS_QUERY_TIMEOUT_SECONDS = env.float("METRICS_QUERY_TIMEOUT_SECONDS", default=5.0)
READY_OUTBOX_MAX_AGE_SECONDS = env.float("READY_OUTBOX_MAX_AGE_SECONDS", default=300)
READY_FOLD_MAX_LAG_SECONDS = env.float("READY_FOLD_MAX_LAG_SECONDS", default=60)
# Each readiness check's own budget; the probe answers within it plus one second whatever hangs.
READY_CHECK_TIMEOUT_SECONDS = env.float("READY_CHECK_TIMEOUT_SECONDS", default=1.0)
# Load balancers probe over plain HTTP: the probes answer there instead of redirecting to HTTPS.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
