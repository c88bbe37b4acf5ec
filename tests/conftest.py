import os
from datetime import datetime

import pytest
from django.core.cache import caches
from django.db import connection

from letters.models import Letter, Signature
from registry.services import organization_alias_add, organization_domain_add
from tests.builders import signed
from tests.factories import LetterFactory, OrganizationFactory, StaffFactory


def pytest_collection_modifyitems(config, items):
    """Tests marked `postgres` skip with a reason on other databases, never silently. Tests using the session's
    Chromium run last: from its start, Playwright's sync API keeps an event loop in this thread, and code that calls
    async_to_sync (the /readyz checks) refuses to run beside one."""
    from django.conf import settings

    items.sort(key=lambda item: "browser" in getattr(item, "fixturenames", ()))  # stable: order kept otherwise

    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        skip = pytest.mark.skip(reason="needs PostgreSQL: set DATABASE_URL=postgres://... to run")
        for item in items:
            if "postgres" in item.keywords:
                item.add_marker(skip)


# Tests' own Redis databases, one per pytest-xdist worker (12, 11, …); CI's broker is on 15, benchmarks use 13-14.
REDIS_CACHE_URL = f"redis://127.0.0.1:6379/{12 - int(os.environ.get('PYTEST_XDIST_WORKER', 'gw0')[2:] or 0)}"


@pytest.fixture
def redis_cache(settings):
    """The shared cache on a real Redis, as in production (skips with the reason when Redis does not answer)."""
    import redis

    try:
        redis.Redis.from_url(REDIS_CACHE_URL).ping()
    except redis.RedisError:
        pytest.skip("needs Redis on 127.0.0.1:6379")
    settings.CACHES = {"default": {"BACKEND": "config.cache.RedisCache", "LOCATION": REDIS_CACHE_URL}}
    caches["default"].clear()
    yield caches["default"]
    caches["default"].clear()


@pytest.fixture
def open_letter(db):
    return LetterFactory(status="open")


@pytest.fixture
def staff_user(db):
    return StaffFactory(username="admin")


@pytest.fixture
def staff_client(client, staff_user):
    client.force_login(staff_user)
    return client


@pytest.fixture
def is_postgres() -> bool:
    return connection.vendor == "postgresql"


@pytest.fixture
def clock(monkeypatch, settings):
    """Shared answers live 2 s by a clock the test moves: `clock[0] += seconds`."""
    from config import response_cache

    settings.PUBLIC_RESPONSE_CACHE_SECONDS = 2
    now = [1_800_000_000.0]
    monkeypatch.setattr(response_cache, "time", type("Clock", (), {"time": staticmethod(lambda: now[0])}))
    return now


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Rate-limit counters, cached stats and this process's copy of open letters must not leak between tests."""
    from django.core.cache import cache

    from config.response_cache import near_copies
    from letters.selectors import letter_copies_forget

    cache.clear()
    letter_copies_forget()
    near_copies.clear()
    yield
    cache.clear()
    letter_copies_forget()
    near_copies.clear()


@pytest.fixture
def sign(open_letter):
    """Sign and confirm through the signing services, as a real signer would (tests.builders.signed on open_letter)."""

    def _sign(
        name: str,
        email: str,
        *,
        title: str = "",
        organization: str = "",
        letter: Letter | None = None,
        at: datetime | None = None,
    ) -> Signature:
        return signed(letter or open_letter, name=name, email=email, title=title, organization_name=organization, at=at)

    return _sign


@pytest.fixture
def nvidia(db):
    organization = OrganizationFactory(name="Nvidia", slug="nvidia", name_key="nvidia")
    organization_alias_add(organization=organization, name="NVIDIA Corporation")
    organization_domain_add(organization=organization, domain="nvidia.com")
    return organization


@pytest.fixture(scope="session")
def browser():
    """The session's one Chromium (tests/web, tests/browser): Playwright's sync API allows one per thread."""
    from tests.web.conftest import ARGS, CHROMIUM

    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's sync API runs an event loop in this thread
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield instance
        instance.close()
    os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
