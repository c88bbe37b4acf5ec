"""Admin for memberships and invitations: changes go through the services (audited), staff need two-factor login,
the last owner stays."""

import pytest
from django.urls import reverse

from organizing.models import Membership, OrganizerInvitation
from organizing.services import organizer_invitation_create
from registry.models import AuditEvent
from tests.factories import StaffFactory, UserFactory
from tests.organizing.conftest import member, with_second_factor

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(client):
    user = with_second_factor(StaffFactory(username="staff-2fa"))
    client.force_login(user)
    return client


def change_url(membership):
    return reverse("admin:organizing_membership_change", args=[membership.pk])


def test_staff_change_a_role_through_the_service(staff, letter, owner):
    editor = Membership.objects.get(user=member(letter, "editor"))
    response = staff.post(change_url(editor), {"role": "viewer"})
    assert response.status_code == 302
    editor.refresh_from_db()
    assert editor.role == "viewer"
    assert AuditEvent.objects.filter(action="organizing.membership.role_changed", target_id=str(editor.pk)).exists()


def test_the_last_owner_cannot_be_demoted_in_admin(staff, letter, owner):
    mine = Membership.objects.get(user=owner)
    response = staff.post(change_url(mine), {"role": "editor"})
    assert response.status_code == 200
    assert "A letter keeps at least one owner" in response.content.decode()
    mine.refresh_from_db()
    assert mine.role == "owner"
    assert staff.get(reverse("admin:organizing_membership_delete", args=[mine.pk])).status_code == 403


def test_staff_without_a_second_factor_only_read(client, letter, owner):
    client.force_login(StaffFactory(username="staff-no-2fa"))
    editor = Membership.objects.get(user=member(letter, "editor"))
    assert client.get(change_url(editor)).status_code == 200  # the read-only view
    assert client.post(change_url(editor), {"role": "viewer"}).status_code == 403
    assert client.get(reverse("admin:organizing_membership_add")).status_code == 403
    editor.refresh_from_db()
    assert editor.role == "editor"


def test_staff_add_and_remove_members_through_the_services(staff, letter, owner):
    newcomer = UserFactory(username="newcomer")
    added = staff.post(
        reverse("admin:organizing_membership_add"), {"letter": letter.pk, "user": newcomer.pk, "role": "moderator"}
    )
    assert added.status_code == 302
    membership = Membership.objects.get(user=newcomer)
    assert membership.role == "moderator"
    duplicate = staff.post(
        reverse("admin:organizing_membership_add"), {"letter": letter.pk, "user": newcomer.pk, "role": "viewer"}
    )
    assert duplicate.status_code == 200 and Membership.objects.filter(user=newcomer).count() == 1
    removed = staff.post(reverse("admin:organizing_membership_delete", args=[membership.pk]), {"post": "yes"})
    assert removed.status_code == 302
    assert not Membership.objects.filter(user=newcomer).exists()
    assert list(
        AuditEvent.objects.filter(action__startswith="organizing.membership.")
        .order_by("id")
        .values_list("action", flat=True)
    ) == ["organizing.membership.added", "organizing.membership.removed"]


def test_invitations_are_revoked_by_an_action_and_never_show_the_token_hash(staff, letter, owner):
    issued = organizer_invitation_create(letter=letter, email="new@example.org", role="editor", actor=owner)
    listing = staff.get(reverse("admin:organizing_organizerinvitation_changelist")).content.decode()
    detail = staff.get(
        reverse("admin:organizing_organizerinvitation_change", args=[issued.invitation.pk])
    ).content.decode()
    assert "new@example.org" in listing
    assert issued.invitation.token_hash not in listing + detail and issued.token not in listing + detail
    response = staff.post(
        reverse("admin:organizing_organizerinvitation_changelist"),
        {"action": "revoke", "_selected_action": [issued.invitation.pk]},
    )
    assert response.status_code == 302
    assert OrganizerInvitation.objects.get().revoked_at is not None
    assert AuditEvent.objects.filter(action="organizing.invitation.revoked").count() == 1
