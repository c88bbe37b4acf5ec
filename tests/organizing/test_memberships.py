"""Memberships and co-organizer invitations: services, their audit rows, and every refusal leaving nothing changed."""

from datetime import timedelta

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from letters.models import OutboxMessage
from organizing.models import Membership, OrganizerInvitation
from organizing.permissions import SecondFactorRequired
from organizing.selectors import invitation_by_token, members_of_letter, token_hash
from organizing.services import (
    membership_add,
    membership_remove,
    membership_role_change,
    organizer_invitation_accept,
    organizer_invitation_create,
    organizer_invitation_revoke,
)
from registry.models import AuditEvent
from tests.factories import StaffFactory, UserFactory
from tests.organizing.conftest import member, verified, with_second_factor

pytestmark = pytest.mark.django_db


def audit_actions():
    return list(
        AuditEvent.objects.filter(action__startswith="organizing.").order_by("id").values_list("action", flat=True)
    )


def membership(letter, user):
    return Membership.objects.get(letter=letter, user=user)


def state(letter):
    return sorted(Membership.objects.filter(letter=letter).values_list("user__username", "role"))


# --- membership_add ---------------------------------------------------------------------------------------------


def test_the_creator_of_a_letter_becomes_its_owner_with_an_audit_row(letter):
    creator = UserFactory(username="creator")
    added = membership_add(letter=letter, user=creator, role="owner", actor=creator)
    assert (added.user, added.role, added.added_by) == (creator, "owner", creator)
    event = AuditEvent.objects.get(action="organizing.membership.added")
    assert (event.actor, event.target_id, event.data) == (
        creator,
        str(added.pk),
        {"letter": "coalition-letter", "user": creator.pk, "role": "owner"},
    )


def test_adding_a_member_twice_or_with_an_unknown_role_is_a_field_error(letter, owner):
    with pytest.raises(ValidationError) as twice:
        membership_add(letter=letter, user=owner, role="editor", actor=owner)
    assert twice.value.message_dict == {"user": ["This user is already a member of this letter."]}
    with pytest.raises(ValidationError) as bad_role:
        membership_add(letter=letter, user=UserFactory(), role="admin", actor=owner)
    assert bad_role.value.message_dict == {"role": ["Choose one of: owner, editor, moderator, viewer."]}
    assert state(letter) == [("owner", "owner")]
    assert audit_actions() == []


def test_the_database_refuses_a_role_outside_the_four(letter):
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        Membership.objects.create(letter=letter, user=UserFactory(), role="admin")


def test_members_are_listed_owners_first(letter, owner):
    member(letter, "viewer", username="v", email="a@example.org")
    member(letter, "editor", username="e", email="z@example.org")
    assert [m.user.username for m in members_of_letter(letter=letter)] == ["owner", "e", "v"]


# --- role change ------------------------------------------------------------------------------------------------


def test_an_owner_changes_a_role_and_it_is_audited(letter, owner):
    editor = member(letter, "editor", username="ed")
    changed = membership_role_change(membership=membership(letter, editor), role="moderator", actor=owner)
    assert changed.role == "moderator"
    assert state(letter) == [("ed", "moderator"), ("owner", "owner")]
    event = AuditEvent.objects.get(action="organizing.membership.role_changed")
    assert (event.actor, event.data) == (
        owner,
        {"letter": "coalition-letter", "user": editor.pk, "from": "editor", "to": "moderator"},
    )


@pytest.mark.parametrize("role", ["editor", "moderator", "viewer"])
def test_a_non_owner_cannot_change_roles_and_nothing_changes(letter, owner, role):
    actor = member(letter, role, second_factor=True, username="actor")
    with pytest.raises(PermissionDenied) as raised:
        membership_role_change(membership=membership(letter, owner), role="viewer", actor=actor)
    assert not isinstance(raised.value, SecondFactorRequired)
    assert state(letter) == [("actor", role), ("owner", "owner")]
    assert audit_actions() == []


def test_an_owner_without_a_second_factor_must_set_one_up_before_changing_roles(letter):
    owner = member(letter, "owner", username="owner")
    editor = member(letter, "editor", username="ed")
    with pytest.raises(SecondFactorRequired):
        membership_role_change(membership=membership(letter, editor), role="viewer", actor=owner)
    assert state(letter) == [("ed", "editor"), ("owner", "owner")]


def test_an_owner_of_another_letter_cannot_change_roles_here(letter, other_letter, owner):
    stranger = member(other_letter, "owner", second_factor=True)
    with pytest.raises(PermissionDenied):
        membership_role_change(membership=membership(letter, owner), role="viewer", actor=stranger)
    assert state(letter) == [("owner", "owner")]


def test_the_last_owner_cannot_be_demoted_even_by_themselves_or_by_staff(letter, owner):
    staff = with_second_factor(StaffFactory())
    for actor in (owner, staff):
        with pytest.raises(ValidationError) as raised:
            membership_role_change(membership=membership(letter, owner), role="editor", actor=actor)
        assert raised.value.message_dict == {
            "role": ["A letter keeps at least one owner: make another member owner first."]
        }
    assert state(letter) == [("owner", "owner")]
    assert audit_actions() == []


def test_with_a_second_owner_an_owner_may_step_down(letter, owner):
    member(letter, "owner", username="second")
    membership_role_change(membership=membership(letter, owner), role="viewer", actor=owner)
    assert state(letter) == [("owner", "viewer"), ("second", "owner")]


def test_the_same_role_again_changes_nothing_and_writes_no_audit_row(letter, owner):
    editor = member(letter, "editor")
    membership_role_change(membership=membership(letter, editor), role="editor", actor=owner)
    assert audit_actions() == []


def test_an_unknown_role_is_a_field_error(letter, owner):
    editor = member(letter, "editor", username="ed")
    with pytest.raises(ValidationError) as raised:
        membership_role_change(membership=membership(letter, editor), role="superuser", actor=owner)
    assert raised.value.message_dict == {"role": ["Choose one of: owner, editor, moderator, viewer."]}
    assert state(letter) == [("ed", "editor"), ("owner", "owner")]


# --- removal ----------------------------------------------------------------------------------------------------


def test_an_owner_removes_a_member_and_it_is_audited(letter, owner):
    viewer = member(letter, "viewer")
    membership_remove(membership=membership(letter, viewer), actor=owner)
    assert state(letter) == [("owner", "owner")]
    event = AuditEvent.objects.get(action="organizing.membership.removed")
    assert (event.actor, event.data) == (owner, {"letter": "coalition-letter", "user": viewer.pk, "role": "viewer"})


@pytest.mark.parametrize("role", ["editor", "moderator", "viewer"])
def test_any_member_may_leave_but_not_remove_others(letter, owner, role):
    leaver = member(letter, role, username="leaver")
    other = member(letter, "viewer", username="other")
    with pytest.raises(PermissionDenied):
        membership_remove(membership=membership(letter, other), actor=leaver)
    membership_remove(membership=membership(letter, leaver), actor=leaver)
    assert state(letter) == [("other", "viewer"), ("owner", "owner")]
    assert audit_actions() == ["organizing.membership.left"]


def test_the_last_owner_can_neither_leave_nor_be_removed(letter, owner):
    staff = with_second_factor(StaffFactory())
    for actor in (owner, staff):
        with pytest.raises(ValidationError) as raised:
            membership_remove(membership=membership(letter, owner), actor=actor)
        assert raised.value.message_dict == {
            "membership": ["A letter keeps at least one owner: make another member owner first."]
        }
    assert state(letter) == [("owner", "owner")]
    assert audit_actions() == []


def test_one_of_two_owners_may_leave(letter, owner):
    member(letter, "owner", username="second")
    membership_remove(membership=membership(letter, owner), actor=owner)
    assert state(letter) == [("second", "owner")]


# --- invitations ------------------------------------------------------------------------------------------------


def invite(letter, actor, email="new@example.org", role="editor", **kwargs):
    return organizer_invitation_create(letter=letter, email=email, role=role, actor=actor, **kwargs)


def test_an_invitation_stores_only_the_tokens_hash_and_emails_the_link_through_the_outbox(
    letter, owner, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        issued = invite(letter, owner, email="New.Person@Example.org")
    invitation = issued.invitation
    assert len(issued.token) >= 43  # 32 random bytes, base64url
    assert invitation.token_hash == token_hash(issued.token) != issued.token
    assert issued.token not in str(OrganizerInvitation.objects.filter(pk=invitation.pk).values().get())
    assert (invitation.email, invitation.email_key, invitation.role) == (
        "New.Person@example.org",
        "new.person@example.org",
        "editor",
    )
    assert invitation.expires_at - invitation.created_at == timedelta(days=7)
    [sent] = mail.outbox
    assert sent.to == ["New.Person@example.org"]
    assert f"http://testserver/manage/invitations/{issued.token}/" in sent.body or (
        f"/manage/invitations/{issued.token}/" in sent.body
    )
    assert "Open letter" in sent.body and "Editor" in sent.body
    row = OutboxMessage.objects.get(kind="organizer_invitation")
    assert (row.signature, row.sent_at is not None, row.body_text) == (None, True, "")  # delivered: body dropped
    event = AuditEvent.objects.get(action="organizing.invitation.created")
    assert event.data == {"letter": "coalition-letter", "role": "editor", "invitation": invitation.public_id}
    assert "new.person" not in str(event.data)


@pytest.mark.parametrize("role", ["editor", "moderator", "viewer"])
def test_only_owners_invite(letter, owner, role):
    actor = member(letter, role, second_factor=True)
    with pytest.raises(PermissionDenied):
        invite(letter, actor)
    assert not OrganizerInvitation.objects.exists()
    assert not OutboxMessage.objects.exists()


def test_an_owner_without_a_second_factor_cannot_invite(letter):
    owner = member(letter, "owner")
    with pytest.raises(SecondFactorRequired):
        invite(letter, owner)
    assert not OrganizerInvitation.objects.exists()


def test_bad_invitation_input_names_each_field_and_stores_nothing(letter, owner):
    with pytest.raises(ValidationError) as raised:
        invite(letter, owner, email="not an address", role="boss")
    assert raised.value.message_dict == {
        "email": ["Enter a valid email address."],
        "role": ["Choose one of: owner, editor, moderator, viewer."],
    }
    assert not OrganizerInvitation.objects.exists()
    assert not OutboxMessage.objects.exists()


def test_inviting_a_member_or_an_address_with_a_live_invitation_is_refused(letter, owner):
    member(letter, "viewer", email="viewer@example.org")
    with pytest.raises(ValidationError) as already_member:
        invite(letter, owner, email="VIEWER@example.org")
    assert already_member.value.message_dict == {
        "email": ["Someone with this address is already a member of this letter."]
    }
    invite(letter, owner, email="new@example.org")
    with pytest.raises(ValidationError) as pending:
        invite(letter, owner, email="new@example.org")
    assert pending.value.message_dict == {
        "email": ["This address already has a pending invitation: revoke it to send a new one."]
    }
    assert OrganizerInvitation.objects.count() == 1


def test_a_new_invitation_supersedes_an_expired_one(letter, owner):
    earlier = timezone.now() - timedelta(days=8)
    old = invite(letter, owner, at=earlier)
    new = invite(letter, owner)
    old.invitation.refresh_from_db()
    assert old.invitation.revoked_at is not None and new.invitation.revoked_at is None
    user = verified(UserFactory(email="new@example.org"))
    with pytest.raises(ValidationError):
        organizer_invitation_accept(token=old.token, user=user)
    organizer_invitation_accept(token=new.token, user=user)
    assert membership(letter, user).role == "editor"


def test_accepting_makes_the_user_a_member_once(letter, owner):
    issued = invite(letter, owner, role="moderator")
    user = verified(UserFactory(username="invitee", email="new@example.org"))
    added = organizer_invitation_accept(token=issued.token, user=user)
    assert (added.letter, added.user, added.role) == (letter, user, "moderator")
    issued.invitation.refresh_from_db()
    assert (issued.invitation.accepted_by, issued.invitation.accepted_at is not None) == (user, True)
    assert audit_actions() == [
        "organizing.invitation.created",
        "organizing.invitation.accepted",
        "organizing.membership.added",
    ]
    second = verified(UserFactory(username="second", email="second@example.org"))
    with pytest.raises(ValidationError) as used:
        organizer_invitation_accept(token=issued.token, user=second)
    assert used.value.message_dict == {"token": ["This invitation was used already."]}
    assert state(letter) == [("invitee", "moderator"), ("owner", "owner")]


def test_an_expired_invitation_cannot_be_accepted(letter, owner):
    issued = invite(letter, owner)
    user = verified(UserFactory(email="new@example.org"))
    with pytest.raises(ValidationError) as raised:
        organizer_invitation_accept(token=issued.token, user=user, at=timezone.now() + timedelta(days=7, seconds=1))
    assert raised.value.message_dict == {
        "token": ["This invitation has expired: ask an owner of the letter for a new one."]
    }
    assert state(letter) == [("owner", "owner")]


def test_a_revoked_invitation_cannot_be_accepted_and_revoking_twice_is_refused(letter, owner):
    issued = invite(letter, owner)
    organizer_invitation_revoke(invitation=issued.invitation, actor=owner)
    user = verified(UserFactory(email="new@example.org"))
    with pytest.raises(ValidationError) as raised:
        organizer_invitation_accept(token=issued.token, user=user)
    assert raised.value.message_dict == {"token": ["This invitation was revoked."]}
    with pytest.raises(ValidationError) as twice:
        organizer_invitation_revoke(invitation=issued.invitation, actor=owner)
    assert twice.value.message_dict == {"invitation": ["This invitation was revoked already."]}
    assert state(letter) == [("owner", "owner")]
    assert audit_actions() == ["organizing.invitation.created", "organizing.invitation.revoked"]


def test_only_owners_of_that_letter_revoke(letter, other_letter, owner):
    issued = invite(letter, owner)
    for actor in (member(letter, "editor", second_factor=True), member(other_letter, "owner", second_factor=True)):
        with pytest.raises(PermissionDenied):
            organizer_invitation_revoke(invitation=issued.invitation, actor=actor)
    issued.invitation.refresh_from_db()
    assert issued.invitation.revoked_at is None


def test_a_wrong_or_garbled_token_is_refused(letter, owner):
    invite(letter, owner)
    user = verified(UserFactory(email="new@example.org"))
    for token in ("", "x" * 43, "x" * 500):
        with pytest.raises(ValidationError) as raised:
            organizer_invitation_accept(token=token, user=user)
        assert raised.value.message_dict == {"token": ["This invitation link is not valid."]}
    assert invitation_by_token(token="x" * 43) is None
    assert state(letter) == [("owner", "owner")]


def test_the_link_joins_only_the_letter_it_was_sent_for(letter, other_letter, owner):
    other_owner = member(other_letter, "owner", second_factor=True, username="other-owner")
    issued = invite(other_letter, other_owner, role="viewer")
    user = verified(UserFactory(username="invitee", email="new@example.org"))
    organizer_invitation_accept(token=issued.token, user=user)
    assert state(letter) == [("owner", "owner")]
    assert state(other_letter) == [("invitee", "viewer"), ("other-owner", "owner")]


def test_the_accepting_account_needs_the_invited_address_verified(letter, owner):
    issued = invite(letter, owner)
    unverified_holder = UserFactory(email="new@example.org")  # the address on the user, but never verified
    other = verified(UserFactory(email="someone.else@example.org"))
    for user in (unverified_holder, other):
        with pytest.raises(ValidationError) as raised:
            organizer_invitation_accept(token=issued.token, user=user)
        assert list(raised.value.message_dict) == ["email"]
    assert state(letter) == [("owner", "owner")]
    verified(other, email="new@example.org")
    organizer_invitation_accept(token=issued.token, user=other)
    assert membership(letter, other).role == "editor"


def test_an_existing_member_cannot_spend_an_invitation(letter, owner):
    issued = invite(letter, owner, email="second@example.org", role="owner")
    viewer = verified(member(letter, "viewer", username="viewer", email="viewer@example.org"), "second@example.org")
    with pytest.raises(ValidationError) as raised:
        organizer_invitation_accept(token=issued.token, user=viewer)
    assert raised.value.message_dict == {"token": ["You are already a member of this letter."]}
    issued.invitation.refresh_from_db()
    assert issued.invitation.accepted_at is None
    assert state(letter) == [("owner", "owner"), ("viewer", "viewer")]


def test_signing_in_is_needed_to_accept(letter, owner):
    from django.contrib.auth.models import AnonymousUser

    issued = invite(letter, owner)
    with pytest.raises(PermissionDenied):
        organizer_invitation_accept(token=issued.token, user=AnonymousUser())


def test_a_letter_has_a_cap_on_live_invitations(letter, owner, monkeypatch):
    from organizing import services

    monkeypatch.setattr(services, "PENDING_INVITATIONS_MAX", 2)
    invite(letter, owner, email="one@example.org")
    invite(letter, owner, email="two@example.org")
    with pytest.raises(ValidationError) as raised:
        invite(letter, owner, email="three@example.org")
    assert raised.value.message_dict == {
        "email": ["This letter has 2 pending invitations: revoke some before sending more."]
    }
    assert OrganizerInvitation.objects.count() == 2
