"""An organizer's day in real Chromium: sign up (allauth, the verification link read from the mail outbox), turn on
TOTP (codes computed here with allauth's own HOTP), create a letter, schedule and launch it, watch a signature
arrive on the dashboard; a viewer cannot moderate; a material version 2 emails the earlier signers to re-consent."""

import re
import time
from datetime import timedelta

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP, format_hotp_value, generate_totp_secret, hotp_value
from django.core import mail
from django.utils import timezone

from letters.models import Letter
from organizing.models import Membership
from organizing.services import membership_add
from tests.builders import signed
from tests.factories import UserFactory
from tests.web.conftest import SCREENSHOTS, needs_chromium, submit

pytestmark = needs_chromium
EMAIL = "lead.organizer@coalition.example"
PASSWORD = "a long correct horse battery staple"
SLUG = "defenders-need-tools"
SIGNER = "katie@lutasecurity.example"


def totp_code(secret: str) -> str:
    """The current code; near the end of a 30 s window, the next window's (so it is still valid when it arrives)."""
    if time.time() % 30 > 27:
        time.sleep(30 - time.time() % 30 + 0.1)
    return format_hotp_value(hotp_value(secret, int(time.time()) // 30))


def link_in_mail(to: str, pattern: str, *, wait: float = 10.0) -> str:
    """The link in the newest email to `to`, waiting for it: a click returns before the server has answered."""
    deadline = time.monotonic() + wait
    while True:
        found = [m for m in mail.outbox if to in m.to and re.search(pattern, m.body)]
        if found:
            return re.search(pattern, found[-1].body).group(0)
        assert time.monotonic() < deadline, f"no email to {to} with {pattern}"
        time.sleep(0.05)


def shot(page, name: str) -> None:
    """A screenshot, after checking that the page fits the phone's width (no sideways scrolling)."""
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, (name, overflow)
    page.screenshot(path=str(SCREENSHOTS / f"manage-{name}.png"), full_page=True)


def test_an_organizer_signs_up_turns_on_totp_creates_schedules_launches_and_sees_a_signature(
    browser, live_server, transactional_db
):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    site = live_server.url
    context = browser.new_context(viewport={"width": 390, "height": 844})  # a phone
    page = context.new_page()

    page.goto(f"{site}/accounts/signup/")
    page.fill("#id_email", EMAIL)
    page.fill("#id_password1", PASSWORD)
    page.fill("#id_password2", PASSWORD)
    submit(page.get_by_role("button", name="Sign Up"))
    page.goto(site + link_in_mail(EMAIL, r"/accounts/confirm-email/[^/\s]+/"))
    submit(page.get_by_role("button", name="Confirm"))
    page.goto(f"{site}/accounts/login/?next=/accounts/2fa/totp/activate/")
    page.fill("#id_login", EMAIL)
    page.fill("#id_password", PASSWORD)
    submit(page.get_by_role("button", name="Sign In", exact=True))
    shot(page, "signed-in")
    if "/reauthenticate/" in page.url:
        page.fill("#id_password", PASSWORD)
        submit(page.get_by_role("button", name=re.compile("Confirm", re.I)))
    shot(page, "totp")
    secret = page.locator("#authenticator_secret, [name=secret]").first.input_value()
    page.fill("#id_code", totp_code(secret))
    submit(page.get_by_role("button", name="Activate"))
    assert Authenticator.objects.filter(user__email=EMAIL, type="totp").exists()

    # A new letter, with a preview of its Markdown first.
    page.goto(f"{site}/manage/new/")
    page.fill("#id_slug", SLUG)
    page.fill("#id_title", "Defenders need the best tools")
    page.fill("#id_body", "We ask you to **reconsider** the rule.")
    page.fill("#id_recipients", "Howard Lutnick | Secretary of Commerce")
    submit(page.get_by_role("button", name="Preview"))
    shot(page, "preview")
    assert (
        page.get_by_test_id("preview").inner_html().strip()
        == "<p>We ask you to <strong>reconsider</strong> the rule.</p>"
    )
    submit(page.get_by_role("button", name="Create the draft"))
    assert page.get_by_test_id("letter-status").text_content() == "Draft"
    shot(page, "draft")

    # Scheduled for tomorrow: still hidden from the public; then launched now.
    submit(page.get_by_role("link", name="Schedule the launch…"))
    tomorrow = timezone.now() + timedelta(days=1)
    page.fill("#id_publish_at", tomorrow.strftime("%Y-%m-%dT%H:%M"))
    submit(page.get_by_role("button", name="Schedule the launch"))
    assert page.get_by_test_id("letter-status").text_content().startswith("Scheduled")
    public = browser.new_context()
    reader = public.new_page()
    assert reader.goto(f"{site}/letters/{SLUG}/").status == 404
    submit(page.get_by_role("link", name="Launch now…"))
    submit(page.get_by_role("button", name="Yes, open it now"))
    assert page.get_by_test_id("letter-status").text_content() == "Open for signatures"
    assert reader.goto(f"{site}/letters/{SLUG}/").status == 200

    # A signer signs and confirms; the organizer sees the signature arrive.
    reader.goto(f"{site}/letters/{SLUG}/sign/")
    reader.get_by_label("Full name").fill("Katie Moussouris")
    reader.get_by_label("Email").fill(SIGNER)
    submit(reader.get_by_role("button", name="Sign the letter"))
    reader.goto(site + link_in_mail(SIGNER, r"/confirm/[\w-]+/"))
    submit(reader.get_by_role("button", name="Confirm my signature"))
    page.reload()
    assert page.get_by_test_id("count-visible").inner_text() == "1"
    assert page.get_by_test_id("recent-signatures").get_by_text("Katie Moussouris").count() == 1
    shot(page, "dashboard")

    # The organizer holds it; a viewer sees the held queue but can neither release nor export.
    submit(page.get_by_test_id("recent-signatures").get_by_role("button", name="Hold"))
    assert page.get_by_test_id("count-held").inner_text() == "1"
    letter = Letter.objects.get(slug=SLUG)
    held = letter.signatures.get()
    viewer = UserFactory(username="viewer", email="viewer@coalition.example", password=PASSWORD)
    EmailAddress.objects.create(user=viewer, email=viewer.email, verified=True, primary=True)
    membership_add(letter=letter, user=viewer, role=Membership.Role.VIEWER, actor=None)
    watcher = browser.new_context(viewport={"width": 390, "height": 844})
    viewer_page = watcher.new_page()
    viewer_page.goto(f"{site}/accounts/login/?next=/manage/{SLUG}/")
    viewer_page.fill("#id_login", viewer.email)
    viewer_page.fill("#id_password", PASSWORD)
    submit(viewer_page.get_by_role("button", name="Sign In", exact=True))
    assert viewer_page.get_by_test_id(f"held-{held.public_id}").count() == 1
    assert viewer_page.get_by_role("button", name="Release").count() == 0
    assert viewer_page.get_by_text(SIGNER).count() == 0
    csrf = next(c["value"] for c in watcher.cookies() if c["name"] == "csrftoken")
    refused = viewer_page.request.post(
        f"{site}/manage/{SLUG}/signatures/{held.public_id}/release/", form={"csrfmiddlewaretoken": csrf}
    )
    assert refused.status == 403
    assert "Your role in this letter does not allow this." in refused.text()
    held.refresh_from_db()
    assert held.hold_reason == "admin"
    shot(viewer_page, "viewer")
    watcher.close()

    # The organizer releases it, then publishes a material version 2: the signer is asked to re-consent.
    submit(page.get_by_test_id(f"held-{held.public_id}").get_by_role("button", name="Release"))
    assert page.get_by_test_id("count-visible").inner_text() == "1"
    submit(page.get_by_role("link", name="Publish a new version"))
    shot(page, "version-form")
    page.fill("#id_body", "We ask you to **withdraw** the rule.")
    page.get_by_label(re.compile("^Material")).check()
    page.fill("#id_note", "Asks for withdrawal, not reconsideration")
    before = len(mail.outbox)
    submit(page.get_by_role("button", name="Publish the version"))
    assert "Version 2 published." in page.locator(".messages").inner_text()
    assert link_in_mail(SIGNER, r"/reconsent/[\w-]+/")
    assert len([m for m in mail.outbox[before:] if SIGNER in m.to]) == 1
    page.reload()
    assert page.get_by_test_id("count-awaiting-reconsent").inner_text() == "1"
    shot(page, "material-v2")
    public.close()
    context.close()


def test_the_organizer_pages_work_without_javascript_two_factor_login_included(browser, live_server, transactional_db):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    site = live_server.url
    user = UserFactory(username="nojs", email="nojs@coalition.example", password=PASSWORD)
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    secret = generate_totp_secret()
    TOTP.activate(user, secret)
    context = browser.new_context(viewport={"width": 375, "height": 740}, java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{site}/accounts/login/?next=/manage/new/")
    page.fill("#id_login", user.email)
    page.fill("#id_password", PASSWORD)
    submit(page.get_by_role("button", name="Sign In", exact=True))
    page.fill("#id_code", totp_code(secret))  # allauth's second step of the login
    submit(page.get_by_role("button", name=re.compile("Sign In", re.I)).first)
    assert page.url.endswith("/manage/new/")
    page.fill("#id_slug", "no-script-letter")
    page.fill("#id_title", "Works without scripts")
    page.fill("#id_body", "Plain *forms*.")
    submit(page.get_by_role("button", name="Create the draft"))
    submit(page.get_by_role("link", name="Launch now…"))
    submit(page.get_by_role("button", name="Yes, open it now"))
    assert page.get_by_test_id("letter-status").text_content() == "Open for signatures"
    signed(Letter.objects.get(slug="no-script-letter"), name="Ada Lovelace", email="ada@example.org")
    page.reload()
    submit(page.get_by_test_id("recent-signatures").get_by_role("button", name="Hold"))
    held = Letter.objects.get(slug="no-script-letter").signatures.get()
    row = page.get_by_test_id(f"held-{held.public_id}")
    row.locator("summary", has_text="Verify").click()  # <details> opens without scripts
    row.get_by_label(re.compile(r"^Evidence(?! link)")).fill("Called her office")
    submit(row.get_by_role("button", name="Verify", exact=True))
    held.refresh_from_db()
    assert (held.hold_reason, held.verification_level) == ("", "manual")
    assert page.get_by_test_id("count-visible").inner_text() == "1"
    page.screenshot(path=str(SCREENSHOTS / "manage-no-javascript.png"), full_page=True)
    context.close()
