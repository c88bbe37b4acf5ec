"""The members and invitations API: answers, field errors in the one error shape, nothing changed after a refusal."""

import pytest
from django.test import Client

from organizing.models import Membership, OrganizerInvitation
from organizing.services import organizer_invitation_create
from registry.models import AuditEvent
from tests.factories import UserFactory
from tests.organizing.conftest import member, verified

pytestmark = pytest.mark.django_db
BASE = "/api/v1/manage/letters/coalition-letter"


def api(user):
    client = Client()
    client.force_login(user)
    return client


def roles(letter):
    return sorted(Membership.objects.filter(letter=letter).values_list("user__username", "role"))


def test_members_list_owners_first_and_marks_you(letter, owner):
    viewer = member(letter, "viewer", username="viewer", email="viewer@example.org")
    response = api(viewer).get(f"{BASE}/members/")
    assert response.status_code == 200
    assert [(m["email"], m["role"], m["is_you"]) for m in response.json()] == [
        ("owner@example.org", "owner", False),
        ("viewer@example.org", "viewer", True),
    ]
    assert set(response.json()[0]) == {"id", "email", "role", "is_you", "joined_at"}


def test_an_owner_changes_a_role(letter, owner):
    editor = member(letter, "editor", username="ed")
    membership = Membership.objects.get(user=editor)
    response = api(owner).patch(f"{BASE}/members/{membership.pk}/", {"role": "viewer"}, content_type="application/json")
    assert response.status_code == 200 and response.json()["role"] == "viewer"
    assert roles(letter) == [("ed", "viewer"), ("owner", "owner")]


def test_demoting_the_last_owner_is_a_field_error_and_nothing_changes(letter, owner):
    mine = Membership.objects.get(user=owner)
    response = api(owner).patch(f"{BASE}/members/{mine.pk}/", {"role": "editor"}, content_type="application/json")
    assert response.status_code == 400
    assert response.json() == {
        "detail": "Invalid input.",
        "errors": {"role": ["A letter keeps at least one owner: make another member owner first."]},
    }
    assert roles(letter) == [("owner", "owner")]


def test_an_unknown_role_is_a_field_error(letter, owner):
    mine = Membership.objects.get(user=owner)
    response = api(owner).patch(f"{BASE}/members/{mine.pk}/", {"role": "root"}, content_type="application/json")
    assert response.status_code == 400 and list(response.json()["errors"]) == ["role"]


def test_an_editor_cannot_change_roles_or_invite(letter, owner):
    editor = member(letter, "editor", second_factor=True, username="ed")
    mine = Membership.objects.get(user=owner)
    client = api(editor)
    for response in (
        client.patch(f"{BASE}/members/{mine.pk}/", {"role": "viewer"}, content_type="application/json"),
        client.post(
            f"{BASE}/invitations/", {"email": "x@example.org", "role": "owner"}, content_type="application/json"
        ),
        client.get(f"{BASE}/invitations/"),
    ):
        assert response.status_code == 403
        assert response.json() == {"detail": "Your role in this letter does not allow this.", "errors": {}}
    assert roles(letter) == [("ed", "editor"), ("owner", "owner")]
    assert not OrganizerInvitation.objects.exists()


def test_an_owner_without_a_second_factor_is_told_to_set_one_up(letter):
    owner = member(letter, "owner", username="owner")
    response = api(owner).post(
        f"{BASE}/invitations/", {"email": "x@example.org", "role": "editor"}, content_type="application/json"
    )
    assert response.status_code == 403
    assert "two-factor" in response.json()["detail"]
    assert not OrganizerInvitation.objects.exists()


def test_removing_and_leaving(letter, owner):
    viewer = member(letter, "viewer", username="viewer")
    editor = member(letter, "editor", username="ed")
    removed = api(owner).delete(f"{BASE}/members/{Membership.objects.get(user=viewer).pk}/")
    assert removed.status_code == 204
    refused = api(editor).delete(f"{BASE}/members/{Membership.objects.get(user=owner).pk}/")
    assert refused.status_code == 403
    left = api(editor).delete(f"{BASE}/members/{Membership.objects.get(user=editor).pk}/")
    assert left.status_code == 204
    last = api(owner).delete(f"{BASE}/members/{Membership.objects.get(user=owner).pk}/")
    assert last.status_code == 400 and list(last.json()["errors"]) == ["membership"]
    assert roles(letter) == [("owner", "owner")]


def test_inviting_answers_without_the_token_and_lists_pending(letter, owner):
    client = api(owner)
    response = client.post(
        f"{BASE}/invitations/", {"email": "New@Example.org", "role": "moderator"}, content_type="application/json"
    )
    assert response.status_code == 201
    invitation = OrganizerInvitation.objects.get()
    body = response.json()
    assert body == {
        "id": invitation.public_id,
        "email": "New@example.org",
        "role": "moderator",
        "invited_by": "owner@example.org",
        "created_at": body["created_at"],
        "expires_at": body["expires_at"],
    }
    assert invitation.token_hash not in response.content.decode()
    assert [i["id"] for i in client.get(f"{BASE}/invitations/").json()] == [invitation.public_id]


def test_bad_invitation_input_is_field_errors_and_stores_nothing(letter, owner):
    response = api(owner).post(
        f"{BASE}/invitations/", {"email": "nope", "role": "boss"}, content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json() == {"detail": "Invalid input.", "errors": {"role": ['"boss" is not a valid choice.']}}
    assert not OrganizerInvitation.objects.exists()
    invalid_email = api(owner).post(
        f"{BASE}/invitations/", {"email": "nope", "role": "viewer"}, content_type="application/json"
    )
    assert invalid_email.json() == {"detail": "Invalid input.", "errors": {"email": ["Enter a valid email address."]}}


def test_revoking_then_the_link_is_refused(letter, owner):
    issued = organizer_invitation_create(letter=letter, email="new@example.org", role="editor", actor=owner)
    client = api(owner)
    assert client.delete(f"{BASE}/invitations/{issued.invitation.public_id}/").status_code == 204
    again = client.delete(f"{BASE}/invitations/{issued.invitation.public_id}/")
    assert again.status_code == 400 and again.json()["errors"] == {
        "invitation": ["This invitation was revoked already."]
    }
    invitee = verified(UserFactory(email="new@example.org"))
    accept = api(invitee).post(
        "/api/v1/manage/invitations/accept", {"token": issued.token}, content_type="application/json"
    )
    assert accept.status_code == 400 and accept.json()["errors"] == {"token": ["This invitation was revoked."]}
    assert client.get(f"{BASE}/invitations/").json() == []


def test_accepting_through_the_api(letter, owner):
    issued = organizer_invitation_create(letter=letter, email="new@example.org", role="viewer", actor=owner)
    invitee = verified(UserFactory(username="invitee", email="new@example.org"))
    response = api(invitee).post(
        "/api/v1/manage/invitations/accept", {"token": issued.token}, content_type="application/json"
    )
    assert response.status_code == 200
    assert response.json() == {"letter": "coalition-letter", "title": letter.title, "role": "viewer"}
    assert roles(letter) == [("invitee", "viewer"), ("owner", "owner")]


def test_accepting_needs_a_signed_in_user(letter, owner):
    issued = organizer_invitation_create(letter=letter, email="new@example.org", role="viewer", actor=owner)
    response = Client().post(
        "/api/v1/manage/invitations/accept", {"token": issued.token}, content_type="application/json"
    )
    assert response.status_code in (401, 403)
    assert roles(letter) == [("owner", "owner")]


def test_ids_of_another_letter_are_404(letter, other_letter, owner):
    other_owner = member(other_letter, "owner", second_factor=True, username="other")
    theirs = Membership.objects.get(user=other_owner)
    invitation = organizer_invitation_create(
        letter=other_letter, email="x@example.org", role="viewer", actor=other_owner
    )
    client = api(owner)
    before = AuditEvent.objects.count()
    for response in (
        client.patch(f"{BASE}/members/{theirs.pk}/", {"role": "viewer"}, content_type="application/json"),
        client.delete(f"{BASE}/members/{theirs.pk}/"),
        client.delete(f"{BASE}/invitations/{invitation.invitation.public_id}/"),
        client.get("/api/v1/manage/letters/other-letter/members/"),
    ):
        assert response.status_code == 404
        assert response.json()["errors"] == {}
        assert "other@example.org" not in response.content.decode()
    assert AuditEvent.objects.count() == before
    assert Membership.objects.get(pk=theirs.pk).role == "owner"


def test_the_endpoints_are_in_the_openapi_schema(client):
    schema = client.get("/api/v1/schema/", HTTP_ACCEPT="application/json").content.decode()
    for route in (
        "/api/v1/manage/letters/{slug}/members/",
        "/api/v1/manage/letters/{slug}/members/{member_id}/",
        "/api/v1/manage/letters/{slug}/invitations/",
        "/api/v1/manage/letters/{slug}/invitations/{invitation_id}/",
        "/api/v1/manage/invitations/accept",
    ):
        assert route in schema, route
