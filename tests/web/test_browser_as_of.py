"""The as-of control in real Chromium: a shared link's `Z` instant shows in the datetime-local input and survives."""

from letters.demo import DEMO_SLUG
from tests.web.conftest import needs_chromium, submit

pytestmark = needs_chromium


def test_shared_as_of_link_shows_in_the_input_and_its_export_link_answers(browser, demo_site):
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{demo_site}/letters/{DEMO_SLUG}/?as_of=2026-11-17T00:00:00Z")
    assert page.locator("#id_as_of").input_value() == "2026-11-17T00:00"
    submit(page.get_by_role("button", name="Show"))
    assert "as_of=2026-11-17T00%3A00" in page.url
    assert page.get_by_test_id("public-count").inner_text() == "76"
    export = page.request.get(demo_site + page.get_by_role("link", name="CSV").get_attribute("href"))
    assert export.status == 200
    assert export.headers["x-as-of"] == "2026-11-17T00:00:00+00:00"
    context.close()
