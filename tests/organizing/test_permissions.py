"""The role matrix (contract of issue 14), the second-factor gate, and letter_for_member's 404/403 answers."""

import pytest
from allauth.mfa.models import Authenticator
from django.core.exceptions import PermissionDenied
from django.http import Http404

from organizing import permissions
from organizing.models import Membership
from organizing.permissions import SecondFactorRequired, can, permission_require, role_allows
from organizing.selectors import letter_for_member, letters_of_member
from tests.factories import StaffFactory, UserFactory
from tests.organizing.conftest import member, with_second_factor

pytestmark = pytest.mark.django_db

VIEW, EDIT, RUN, MODERATE, EXPORT, MANAGE = (
    "organizing.view_letter",
    "organizing.edit_letter",
    "organizing.run_letter",
    "organizing.moderate_letter",
    "organizing.export_private",
    "organizing.manage_members",
)
# Written out from the contract, not derived from the code under test.
MATRIX = {
    "owner": {VIEW, EDIT, RUN, MODERATE, EXPORT, MANAGE},
    "editor": {VIEW, EDIT, MODERATE, EXPORT},
    "moderator": {VIEW, MODERATE},
    "viewer": {VIEW},
}
ALL = (VIEW, EDIT, RUN, MODERATE, EXPORT, MANAGE)
CASES = [(role, perm) for role in MATRIX for perm in ALL]


def test_the_module_knows_exactly_the_contract_permissions():
    assert set(permissions.PERMISSIONS) == set(ALL)


@pytest.mark.parametrize(("role", "permission"), CASES)
def test_each_role_with_a_second_factor_may_do_exactly_what_the_matrix_says(letter, role, permission):
    user = member(letter, role, second_factor=True)
    assert can(user, permission, letter) is (permission in MATRIX[role])
    assert user.has_perm(permission, letter) is (permission in MATRIX[role])


@pytest.mark.parametrize(("role", "permission"), CASES)
def test_without_a_second_factor_only_owners_are_held_back_and_never_from_viewing(letter, role, permission):
    user = member(letter, role, second_factor=False)
    allowed = permission in MATRIX[role] and (role != "owner" or permission == VIEW)
    assert can(user, permission, letter) is allowed
    assert role_allows(user, permission, letter) is (permission in MATRIX[role])


@pytest.mark.parametrize("permission", ALL)
def test_letter_for_member_raises_second_factor_required_for_an_owner_without_one(letter, permission):
    owner = member(letter, "owner")
    if permission == VIEW:
        assert letter_for_member(user=owner, slug=letter.slug, permission=permission) == letter
        return
    with pytest.raises(SecondFactorRequired) as raised:
        letter_for_member(user=owner, slug=letter.slug, permission=permission)
    assert isinstance(raised.value, PermissionDenied)
    assert "two-factor" in raised.value.message


@pytest.mark.parametrize(("role", "permission"), CASES)
def test_letter_for_member_answers_each_role_by_the_matrix(letter, role, permission):
    user = member(letter, role, second_factor=True)
    if permission in MATRIX[role]:
        assert letter_for_member(user=user, slug=letter.slug, permission=permission) == letter
    else:
        with pytest.raises(PermissionDenied) as raised:
            letter_for_member(user=user, slug=letter.slug, permission=permission)
        assert not isinstance(raised.value, SecondFactorRequired)


@pytest.mark.parametrize("permission", ALL)
def test_a_member_of_another_letter_gets_404_never_403(letter, other_letter, permission):
    outsider = member(other_letter, "owner", second_factor=True)
    with pytest.raises(Http404):
        letter_for_member(user=outsider, slug=letter.slug, permission=permission)
    assert can(outsider, permission, letter) is False


def test_an_unknown_slug_and_an_anonymous_user_get_404(letter):
    from django.contrib.auth.models import AnonymousUser

    owner = member(letter, "owner", second_factor=True)
    with pytest.raises(Http404):
        letter_for_member(user=owner, slug="no-such-letter", permission=VIEW)
    with pytest.raises(Http404):
        letter_for_member(user=AnonymousUser(), slug=letter.slug, permission=VIEW)


def test_an_inactive_member_gets_404(letter):
    user = member(letter, "owner", second_factor=True, is_active=False)
    with pytest.raises(Http404):
        letter_for_member(user=user, slug=letter.slug, permission=VIEW)


@pytest.mark.parametrize("permission", ALL)
def test_staff_with_a_second_factor_may_do_everything_on_any_letter(letter, permission):
    staff = with_second_factor(StaffFactory(is_superuser=False))
    assert letter_for_member(user=staff, slug=letter.slug, permission=permission) == letter


@pytest.mark.parametrize("superuser", [False, True])
@pytest.mark.parametrize("permission", ALL)
def test_staff_without_a_second_factor_may_only_view(letter, permission, superuser):
    staff = StaffFactory(is_superuser=superuser)
    if permission == VIEW:
        assert letter_for_member(user=staff, slug=letter.slug, permission=permission) == letter
        return
    assert can(staff, permission, letter) is False
    with pytest.raises(SecondFactorRequired):
        letter_for_member(user=staff, slug=letter.slug, permission=permission)


def test_an_editor_who_is_also_staff_needs_the_second_factor_staff_needs(letter):
    user = member(letter, "editor", is_staff=True)
    with pytest.raises(SecondFactorRequired):
        permission_require(user=user, letter=letter, permission=EDIT)


def test_recovery_codes_alone_are_not_a_second_factor_and_a_security_key_is(letter):
    owner = member(letter, "owner")
    Authenticator.objects.create(user=owner, type=Authenticator.Type.RECOVERY_CODES, data={})
    assert can(owner, RUN, letter) is False
    with_second_factor(owner, kind=Authenticator.Type.WEBAUTHN)
    assert can(owner, RUN, letter) is True


def test_an_unknown_permission_is_a_programming_error(letter, owner):
    with pytest.raises(ValueError, match="Unknown organizing permission"):
        can(owner, "organizing.delete_everything", letter)


def test_letters_of_member_lists_only_the_users_letters_with_their_role(letter, other_letter):
    user = member(letter, "moderator")
    Membership.objects.create(letter=other_letter, user=UserFactory(), role="owner")
    assert [(each.slug, each.member_role) for each in letters_of_member(user=user)] == [
        ("coalition-letter", "moderator")
    ]
    assert list(letters_of_member(user=StaffFactory())) == []
