"""Browser tests of the organizer side: the same Debian Chromium and skip-with-reason as tests/web (never a
downloaded browser)."""

from tests.web.conftest import browser  # noqa: F401  the session's Chromium
