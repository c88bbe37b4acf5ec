"""Bringing signatures in, in real Chromium: an editor uploads the demo's 76 founding signers as a spreadsheet, sees
the preview with two rows rejected and one duplicate explained, imports them vouched and watches the progress;
another organizer sends five invitations before launch and two invitees sign with one click; after the launch the
letter shows them all, the invitees as "Invited"; undoing the import removes exactly its rows."""

import re
from pathlib import Path

from allauth.account.models import EmailAddress
from django.core import mail

from letters.models import Signature
from letters.services.lifecycle import letter_open
from organizing.models import Membership
from organizing.services import membership_add
from tests.builders import public_count
from tests.factories import LetterFactory, UserFactory
from tests.web.conftest import SCREENSHOTS, needs_chromium, submit

pytestmark = needs_chromium
PASSWORD = "a long correct horse battery staple"
DEMO_XLSX = Path(__file__).resolve().parents[2] / "docs" / "demo" / "founding-signers.xlsx"
INVITEES = [
    ("Katie Moussouris", "katie@lutasecurity.example"),
    ("Casey Ellis", "casey@bugcrowd.example"),
    ("Alex Rice", "alex@hackerone.example"),
    ("Jen Easterly", "jen@example.org"),
    ("Chris Wysopal", "chris@example.org"),
]


def organizer(letter, username: str, role: str):
    user = UserFactory(username=username, email=f"{username}@coalition.example", password=PASSWORD)
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    membership_add(letter=letter, user=user, role=role, actor=None)
    return user


def signed_in(browser, site: str, user, next_url: str):
    page = browser.new_context(viewport={"width": 390, "height": 844}).new_page()
    page.goto(f"{site}/accounts/login/?next={next_url}")
    page.fill("#id_login", user.email)
    page.fill("#id_password", PASSWORD)
    submit(page.get_by_role("button", name="Sign In", exact=True))
    return page


def test_import_and_invitations_before_launch(browser, live_server, transactional_db):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    site = live_server.url
    letter = LetterFactory(slug="founders", title="Restore defenders' access", status="scheduled")
    editor = organizer(letter, "editor", Membership.Role.EDITOR)
    page = signed_in(browser, site, editor, "/manage/founders/imports/")

    page.set_input_files("#id_file", str(DEMO_XLSX))
    submit(page.get_by_role("button", name="Upload and preview"))
    summary = page.get_by_test_id("import-summary")
    assert summary.inner_text().split("\n") == ["76 new", "0 already signed", "1 duplicate in the file", "2 invalid"]
    assert page.get_by_text("name: This field is required.").count() == 1
    assert page.get_by_text("The same address as row 7.").count() == 1
    page.screenshot(path=str(SCREENSHOTS / "import-preview.png"), full_page=True)
    overflow = "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    assert page.evaluate(overflow) <= 0  # the rows table scrolls in its own box at phone width
    page.get_by_label(re.compile("Vouched for by the organizer")).check()
    submit(page.get_by_role("button", name="Import 76 signers"))
    assert page.get_by_test_id("import-status").inner_text() == "Done"
    assert page.get_by_test_id("import-progress").inner_text().startswith("79 of 79 rows (100%)")
    assert page.locator("#import-progress").get_attribute("value") == "79"

    owner = organizer(letter, "owner", Membership.Role.EDITOR)
    other = signed_in(browser, site, owner, "/manage/founders/signer-invitations/")
    for name, email in INVITEES:
        other.fill("#id_name", name)
        other.fill("#id_email", email)
        submit(other.get_by_role("button", name="Send the invitation"))
    assert other.get_by_test_id("invitation-counts").inner_text().split("\n")[:2] == ["0 queued", "5 sent"]

    invitee = browser.new_context().new_page()
    for name, email in INVITEES[:2]:
        body = next(m.body for m in mail.outbox if m.to == [email])
        invitee.goto(site + re.search(r"/invitations/[\w-]+/", body).group(0))
        assert invitee.get_by_text("This letter is not public yet.").count() == 1
        assert invitee.locator("#id_name").input_value() == name
        submit(invitee.get_by_role("button", name="Sign the letter"))
        assert invitee.get_by_role("heading", name="Thank you for signing").count() == 1
    other.reload()
    assert other.get_by_test_id("state-katie@lutasecurity.example").inner_text() == "signed"
    assert other.get_by_test_id("state-jen@example.org").inner_text() == "sent"

    letter_open(letter=letter, actor=None)
    public = browser.new_context().new_page()
    public.goto(f"{site}/letters/founders/?level=invited")
    assert public_count(letter) == 78
    assert public.locator(".signer .badge--invited").count() == 2
    public.screenshot(path=str(SCREENSHOTS / "import-launched.png"), full_page=True)

    submit(page.get_by_role("button", name="Undo this import"))
    assert public_count(letter) == 2
    assert set(Signature.objects.filter(status="confirmed").values_list("email_key", flat=True)) == {
        "katie@lutasecurity.example",
        "casey@bugcrowd.example",
    }
