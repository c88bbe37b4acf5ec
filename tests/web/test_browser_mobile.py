"""Phone-width and keyboard checks in real Chromium (Debian's /usr/bin/chromium); never a downloaded browser."""

from letters.demo import DEMO_SLUG
from tests.web.conftest import SCREENSHOTS, needs_chromium

pytestmark = needs_chromium


def test_letter_and_sign_pages_fit_a_phone_screen_without_sideways_scrolling(browser, demo_site):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport={"width": 375, "height": 740}, device_scale_factor=1)
    page = context.new_page()
    pages = [(f"/letters/{DEMO_SLUG}/", "letter-phone.png"), (f"/letters/{DEMO_SLUG}/sign/", "sign-phone.png")]
    for path, shot in pages:
        page.goto(f"{demo_site}{path}")
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, path
        page.screenshot(path=str(SCREENSHOTS / shot), full_page=False)
    context.close()


def test_skip_link_is_the_first_tab_stop_and_moves_focus_to_main(browser, demo_site):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(f"{demo_site}/letters/{DEMO_SLUG}/")
    page.keyboard.press("Tab")
    focused = page.evaluate("[document.activeElement.className, document.activeElement.textContent]")
    assert focused == ["skip-link", "Skip to content"]
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    context.close()


def test_embed_badge_renders_inside_a_frame_on_another_page(browser, demo_site):
    context = browser.new_context(viewport={"width": 800, "height": 400})
    page = context.new_page()
    page.goto(f"{demo_site}/")
    badge_url = f"{demo_site}/letters/{DEMO_SLUG}/embed/"
    page.set_content(f'<iframe id="badge" src="{badge_url}" width="400" height="120"></iframe>')
    frame = page.frame_locator("#badge")
    assert frame.locator(".embed-count").inner_text() == "139"
    context.close()
