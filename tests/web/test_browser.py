"""End-to-end tests in real Chromium (Debian's /usr/bin/chromium driven by Playwright); never a downloaded browser."""

import re

from django.core import mail

from letters.demo import DEMO_SLUG
from tests.web.conftest import SCREENSHOTS, needs_chromium, submit

pytestmark = needs_chromium


def _page(browser, **options):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, **options)
    return context, context.new_page()


def test_sign_confirm_and_see_the_new_name_once(browser, demo_site):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    context, page = _page(browser)
    page.goto(f"{demo_site}/letters/{DEMO_SLUG}/")
    page.screenshot(path=str(SCREENSHOTS / "letter.png"), full_page=True)
    submit(page.get_by_role("link", name="Sign this letter").first)
    page.get_by_label("Full name").fill("Grace Brewster Hopper")
    page.get_by_label("Email").fill("grace.hopper@example.org")
    page.get_by_label("Title or role").fill("Rear Admiral")
    page.get_by_label("Organization", exact=True).fill("US Navy")
    page.screenshot(path=str(SCREENSHOTS / "sign.png"), full_page=True)
    submit(page.get_by_role("button", name="Sign the letter"))
    assert page.get_by_role("heading", level=1).inner_text() == "Check your inbox to confirm your signature"
    link = re.search(r"/confirm/[\w-]+/", mail.outbox[-1].body).group(0)
    page.goto(f"{demo_site}{link}")
    assert page.get_by_role("heading", level=1).inner_text() == "Confirm your signature"
    submit(page.get_by_role("button", name="Confirm my signature"))
    assert page.get_by_role("heading", level=1).inner_text() == "Thank you — your signature is confirmed"
    page.goto(f"{demo_site}/letters/{DEMO_SLUG}/?q=Hopper")
    assert page.locator(".signer-name", has_text="Grace Brewster Hopper").count() == 1
    context.close()


def test_filter_by_organization_shows_only_that_organization(browser, demo_site):
    context, page = _page(browser)
    page.goto(f"{demo_site}/letters/{DEMO_SLUG}/")
    page.select_option("#id_organization", "nvidia")
    submit(page.get_by_role("button", name="Show"))
    affiliations = page.locator(".signer-affiliation").all_inner_texts()
    assert affiliations
    assert all(text.endswith("Nvidia") for text in affiliations)
    context.close()


def test_as_of_end_of_day_one_shows_76(browser, demo_site):
    context, page = _page(browser)
    page.goto(f"{demo_site}/letters/{DEMO_SLUG}/")
    page.fill("#id_as_of", "2026-11-17T00:00")
    submit(page.get_by_role("button", name="Show"))
    assert page.get_by_test_id("public-count").inner_text() == "76"
    context.close()


def test_hostile_name_renders_as_text(browser, demo_site):
    from letters.models import Letter
    from letters.services.signing import signature_confirm, signature_create

    letter = Letter.objects.get(slug=DEMO_SLUG)
    hostile = "<img src=x onerror=alert(1)>"
    result = signature_create(letter=letter, name=hostile, email="x@example.org", send_email=False)
    signature_confirm(signature=result.signature)
    context, page = _page(browser)
    dialogs = []
    page.on("dialog", lambda dialog: dialogs.append(dialog.message))
    page.goto(f"{demo_site}/letters/{DEMO_SLUG}/?q=onerror")
    assert page.locator(".signer-name").all_inner_texts() == [hostile]
    assert page.locator(".signer img").count() == 0
    assert dialogs == []
    context.close()


def test_signing_works_with_javascript_disabled(browser, demo_site):
    context, page = _page(browser, java_script_enabled=False)
    page.goto(f"{demo_site}/letters/{DEMO_SLUG}/sign/")
    page.get_by_label("Full name").fill("No Script Signer")
    page.get_by_label("Email").fill("noscript@example.org")
    submit(page.get_by_role("button", name="Sign the letter"))
    assert page.get_by_role("heading", level=1).inner_text() == "Check your inbox to confirm your signature"
    page.goto(f"{demo_site}/letters/{DEMO_SLUG}/?as_of=2026-11-19T00:00")
    assert int(page.get_by_test_id("public-count").inner_text()) > 100
    context.close()
