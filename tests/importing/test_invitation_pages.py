import pytest

from importing.invitations import signer_invitation_create
from importing.models import SignerInvitation
from letters.models import Signature
from organizing.models import Membership
from tests.factories import LetterFactory
from tests.organizing.conftest import member


@pytest.fixture
def letter(db):
    return LetterFactory(slug="founders", status="scheduled", title="Restore defenders' access")


@pytest.fixture
def editor(client, letter):
    user = member(letter, Membership.Role.EDITOR, username="editor")
    client.force_login(user)
    client.user = user
    return client


def test_organizer_invites_from_the_page_and_sees_the_state(
    editor, letter, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = editor.post(
            "/manage/founders/signer-invitations/",
            {"name": "Katie Moussouris", "email": "katie@example.org", "title": "CEO", "organization": "Luta Security"},
        )
    assert response.status_code == 302
    page = editor.get("/manage/founders/signer-invitations/").content.decode()
    assert '<td data-testid="state-katie@example.org">sent</td>' in page
    assert "<li><strong>1</strong> sent</li>" in page
    assert [m.to for m in mailoutbox] == [["katie@example.org"]]
    bad = editor.post("/manage/founders/signer-invitations/", {"name": "Katie", "email": "katie@example.org"})
    assert bad.status_code == 400
    assert "This address already has an open invitation: remind or revoke it." in bad.content.decode()
    assert SignerInvitation.objects.count() == 1


def test_the_invitee_page_shows_the_embargoed_letter_and_signs_on_post_only(client, letter, editor):
    issued = signer_invitation_create(
        letter=letter, name="Katie Moussouris", email="katie@example.org", title="CEO", actor=editor.user
    )
    client.logout()
    page = client.get(f"/invitations/{issued.token}/")
    html = page.content.decode()
    assert page.status_code == 200
    assert "Restore defenders&#x27; access" in html
    assert "This letter is not public yet." in html
    assert 'value="Katie Moussouris"' in html
    assert page["Cache-Control"].startswith("max-age=0")
    assert Signature.objects.count() == 0
    assert client.get("/letters/founders/").status_code == 404  # still under embargo for the public
    done = client.post(
        f"/invitations/{issued.token}/", {"action": "sign", "name": "Katie Moussouris", "title": "Founder"}
    )
    assert done.status_code == 200
    assert "Thank you for signing" in done.content.decode()
    signature = Signature.objects.get()
    assert (signature.verification_level, signature.title) == ("invited", "Founder")
    again = client.get(f"/invitations/{issued.token}/")
    assert again.status_code == 404
    assert "This invitation link is not valid" in again.content.decode()


def test_declining_from_the_page(client, letter, editor):
    issued = signer_invitation_create(letter=letter, name="Grace Hopper", email="grace@example.org", actor=editor.user)
    response = client.post(f"/invitations/{issued.token}/", {"action": "decline"})
    assert "You declined the invitation" in response.content.decode()
    assert SignerInvitation.objects.get().state == "declined"
    assert Signature.objects.count() == 0


def test_a_bad_correction_keeps_the_link(client, letter, editor):
    issued = signer_invitation_create(letter=letter, name="Grace Hopper", email="grace@example.org", actor=editor.user)
    response = client.post(f"/invitations/{issued.token}/", {"action": "sign", "name": "Grace\u202eHopper"})
    assert response.status_code == 400
    assert "Bidirectional control characters are not allowed." in response.content.decode()
    assert SignerInvitation.objects.get().signed_at is None
    assert Signature.objects.count() == 0


def test_another_letters_invitations_are_not_found(editor, client):
    other = LetterFactory(slug="other")
    owner = member(other, Membership.Role.OWNER, second_factor=True, username="owner-other")
    theirs = signer_invitation_create(letter=other, name="Ann Able", email="ann@example.org", actor=owner).invitation
    assert editor.get("/manage/other/signer-invitations/").status_code == 404
    for action in ("revoke", "remind"):
        assert editor.post(f"/manage/founders/signer-invitations/{theirs.public_id}/{action}/").status_code == 404
        assert editor.post(f"/manage/other/signer-invitations/{theirs.public_id}/{action}/").status_code == 404
    theirs.refresh_from_db()
    assert (theirs.revoked_at, theirs.reminders_sent) == (None, 0)


def test_the_dashboard_shows_invitation_counts_and_links_for_editors(editor, letter):
    signer_invitation_create(letter=letter, name="Ann Able", email="ann@example.org", actor=editor.user)
    html = editor.get("/manage/founders/").content.decode()
    assert '<a href="/manage/founders/signer-invitations/">Invite signers</a>' in html
    assert '<a href="/manage/founders/invalidations/">Remove in bulk</a>' in html
    assert "<strong>1</strong> queued" in html
