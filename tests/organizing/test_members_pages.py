"""The members pages (/manage/<slug>/members/) and the invitation link page, as forms without JavaScript."""

import re

import pytest
from django.test import Client

from letters.models import OutboxMessage
from organizing.models import Membership, OrganizerInvitation
from organizing.services import organizer_invitation_create
from tests.factories import UserFactory
from tests.organizing.conftest import member, verified

pytestmark = pytest.mark.django_db
PAGE = "/manage/coalition-letter/members/"


def browser(user):
    client = Client(enforce_csrf_checks=False)
    client.force_login(user)
    return client


def roles(letter):
    return sorted(Membership.objects.filter(letter=letter).values_list("user__username", "role"))


def test_an_owner_sees_members_forms_and_pending_invitations(letter, owner):
    member(letter, "viewer", username="viewer", email="viewer@example.org")
    organizer_invitation_create(letter=letter, email="pending@example.org", role="editor", actor=owner)
    page = browser(owner).get(PAGE).content.decode()
    assert "viewer@example.org" in page and "pending@example.org" in page
    assert 'action="/manage/coalition-letter/members/invite/"' in page
    assert page.count('name="csrfmiddlewaretoken"') >= 4
    assert 'name="viewport"' in page


def test_a_viewer_sees_the_list_but_no_management_forms(letter, owner):
    viewer = member(letter, "viewer", username="viewer")
    organizer_invitation_create(letter=letter, email="pending@example.org", role="editor", actor=owner)
    page = browser(viewer).get(PAGE).content.decode()
    assert "owner@example.org" in page
    assert "pending@example.org" not in page and "/members/invite/" not in page and "Leave this letter" in page


def test_inviting_through_the_form_writes_the_email(letter, owner):
    response = browser(owner).post(f"{PAGE}invite/", {"email": "new@example.org", "role": "moderator"})
    assert response.status_code == 302 and response["Location"] == PAGE
    invitation = OrganizerInvitation.objects.get()
    assert (invitation.email, invitation.role) == ("new@example.org", "moderator")
    assert OutboxMessage.objects.filter(kind="organizer_invitation", to_email="new@example.org").exists()


def test_a_bad_invitation_shows_field_errors_and_stores_nothing(letter, owner):
    member(letter, "viewer", email="viewer@example.org")
    response = browser(owner).post(f"{PAGE}invite/", {"email": "viewer@example.org", "role": "editor"})
    assert response.status_code == 400
    assert "Someone with this address is already a member of this letter." in response.content.decode()
    assert not OrganizerInvitation.objects.exists()


def test_changing_a_role_and_the_last_owner_rule_on_the_page(letter, owner):
    editor = member(letter, "editor", username="ed")
    client = browser(owner)
    ed = Membership.objects.get(user=editor)
    assert client.post(f"{PAGE}{ed.pk}/role/", {"role": "viewer"}).status_code == 302
    mine = Membership.objects.get(user=owner)
    refused = client.post(f"{PAGE}{mine.pk}/role/", {"role": "viewer"})
    assert refused.status_code == 400
    assert "A letter keeps at least one owner" in refused.content.decode()
    assert roles(letter) == [("ed", "viewer"), ("owner", "owner")]


def test_a_moderator_cannot_remove_others_but_can_leave(letter, owner):
    moderator = member(letter, "moderator", username="mod")
    client = browser(moderator)
    refused = client.post(f"{PAGE}{Membership.objects.get(user=owner).pk}/remove/")
    assert refused.status_code == 403
    assert "Your role in this letter does not allow this." in refused.content.decode()
    left = client.post(f"{PAGE}{Membership.objects.get(user=moderator).pk}/remove/")
    assert left.status_code == 302 and left["Location"] == "/manage/"
    assert roles(letter) == [("owner", "owner")]


def test_revoking_on_the_page(letter, owner):
    issued = organizer_invitation_create(letter=letter, email="pending@example.org", role="editor", actor=owner)
    response = browser(owner).post(f"/manage/coalition-letter/invitations/{issued.invitation.public_id}/revoke/")
    assert response.status_code == 302
    issued.invitation.refresh_from_db()
    assert issued.invitation.revoked_at is not None


def test_the_invitation_link_asks_to_sign_in_then_shows_and_accepts(letter, owner):
    issued = organizer_invitation_create(letter=letter, email="new@example.org", role="editor", actor=owner)
    url = f"/manage/invitations/{issued.token}/"
    anonymous = Client().get(url)
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/accounts/login/?next=")
    invitee = verified(UserFactory(username="invitee", email="new@example.org"))
    client = browser(invitee)
    shown = client.get(url).content.decode()
    assert letter.title in shown and "editor" in shown and "Accept the invitation" in shown
    assert roles(letter) == [("owner", "owner")]  # a GET changes nothing
    accepted = client.post(url)
    assert accepted.status_code == 302 and accepted["Location"] == "/manage/coalition-letter/"
    assert roles(letter) == [("invitee", "editor"), ("owner", "owner")]
    again = client.get(url)
    assert again.status_code == 200 and "This invitation was used already." in again.content.decode()
    assert "Accept the invitation" not in again.content.decode()


def test_an_invitation_for_another_address_explains_what_to_do(letter, owner):
    issued = organizer_invitation_create(letter=letter, email="new@example.org", role="editor", actor=owner)
    other = verified(UserFactory(email="someone@example.org"))
    response = browser(other).post(f"/manage/invitations/{issued.token}/")
    assert response.status_code == 400
    assert "sent to another address" in response.content.decode()
    assert roles(letter) == [("owner", "owner")]


def test_an_unknown_token_shows_nothing_of_any_letter(letter, owner):
    organizer_invitation_create(letter=letter, email="new@example.org", role="editor", actor=owner)
    response = browser(UserFactory()).get("/manage/invitations/" + "A" * 43 + "/")
    assert response.status_code == 400
    assert letter.title not in response.content.decode()
    assert "not valid" in response.content.decode()


def test_the_members_page_is_404_for_a_member_of_another_letter(letter, other_letter, owner):
    stranger = member(other_letter, "owner", second_factor=True)
    assert browser(stranger).get(PAGE).status_code == 404
    assert re.search("owner@example.org", browser(stranger).get(PAGE).content.decode()) is None


def test_a_member_without_a_second_factor_sees_the_banner_and_one_with_it_does_not(letter, owner):
    viewer = member(letter, "viewer", username="viewer")
    assert 'data-testid="second-factor-banner"' in browser(viewer).get(PAGE).content.decode()
    assert 'data-testid="second-factor-banner"' not in browser(owner).get(PAGE).content.decode()
