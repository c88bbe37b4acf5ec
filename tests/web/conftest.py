"""Real Chromium for browser tests: Debian's /usr/bin/chromium driven by Playwright; never a downloaded browser.

The session's `browser` fixture is in tests/conftest.py, shared with tests/browser (one Playwright per session)."""

import os
from pathlib import Path

import pytest
from django.core.management import call_command

CHROMIUM = "/usr/bin/chromium"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
needs_chromium = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Chromium is not installed (make browsers installs it)"),
]


def submit(control) -> None:
    """Click a button or link that loads another page, and return once that page has loaded.

    A bare click returns as soon as the navigation has started, so a check right after it may read the old page (or
    none, mid-navigation) on a loaded machine; every click that navigates goes through here."""
    with control.page.expect_navigation(wait_until="load"):
        control.click()


@pytest.fixture
def demo_site(live_server, transactional_db):
    call_command("load_demo", stdout=open(os.devnull, "w"))  # noqa: SIM115
    return live_server.url
