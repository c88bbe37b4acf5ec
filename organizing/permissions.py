"""Who may do what to a letter: the one home of the role matrix, for pages, API, admin and services alike.

| permission                   | owner | editor | moderator | viewer | staff |
| organizing.view_letter       |  y    |  y     |  y        |  y     |  y    |
| organizing.edit_letter       |  y    |  y     |  -        |  -     |  y    |
| organizing.run_letter        |  y    |  -     |  -        |  -     |  y    |
| organizing.moderate_letter   |  y    |  y     |  y        |  -     |  y    |
| organizing.export_private    |  y    |  y     |  -        |  -     |  y    |
| organizing.manage_members    |  y    |  -     |  -        |  -     |  y    |

Owners and staff need a second factor (allauth MFA: TOTP or WebAuthn; recovery codes alone do not count) for every
permission but view_letter; the other roles may act without one (pages recommend it).

Check with `can()` or `permission_require()`, not `user.has_perm()`: Django answers True to a superuser's has_perm
before asking any backend, which would skip the second-factor rule. The `rules` permissions are registered too, so
`{% has_perm %}` and DRF's object permissions see the same answers for everyone else.
"""

from typing import Any

import rules
from allauth.mfa.models import Authenticator
from django.core.exceptions import PermissionDenied

from letters.models import Letter
from organizing.models import Membership, Role

VIEW_LETTER = "organizing.view_letter"
EDIT_LETTER = "organizing.edit_letter"
RUN_LETTER = "organizing.run_letter"
MODERATE_LETTER = "organizing.moderate_letter"
EXPORT_PRIVATE = "organizing.export_private"
MANAGE_MEMBERS = "organizing.manage_members"

ROLES_ALLOWED: dict[str, frozenset[str]] = {
    VIEW_LETTER: frozenset({Role.OWNER, Role.EDITOR, Role.MODERATOR, Role.VIEWER}),
    EDIT_LETTER: frozenset({Role.OWNER, Role.EDITOR}),
    RUN_LETTER: frozenset({Role.OWNER}),
    MODERATE_LETTER: frozenset({Role.OWNER, Role.EDITOR, Role.MODERATOR}),
    EXPORT_PRIVATE: frozenset({Role.OWNER, Role.EDITOR}),
    MANAGE_MEMBERS: frozenset({Role.OWNER}),
}
PERMISSIONS = tuple(ROLES_ALLOWED)
# Reading is never gated on a second factor: an owner must be able to reach the page that asks them to set one up.
SECOND_FACTOR_EXEMPT = frozenset({VIEW_LETTER})
SECOND_FACTOR_TYPES = (Authenticator.Type.TOTP, Authenticator.Type.WEBAUTHN)
SECOND_FACTOR_MESSAGE = (
    "Set up two-factor login (an authenticator app or a security key) in your account before you can do this."
)
ROLE_DENIED_MESSAGE = "Your role in this letter does not allow this."


class SecondFactorRequired(PermissionDenied):
    """The role allows the action, but the user (an owner, or staff) must first set up two-factor login."""

    def __init__(self, message: str = SECOND_FACTOR_MESSAGE) -> None:
        super().__init__(message)
        self.message = message


def is_signed_in(user: Any) -> bool:
    return bool(user is not None and user.is_authenticated and user.is_active)


def member_role(user: Any, letter: Letter) -> str | None:
    """The user's role in the letter, or None. One query (cached on the letter object for that user)."""
    if not is_signed_in(user) or letter is None or letter.pk is None:
        return None
    cached = getattr(letter, "_organizing_role_of", None)
    if cached is not None and cached[0] == user.pk:
        return cached[1]
    role = Membership.objects.filter(letter=letter, user=user).values_list("role", flat=True).first()
    letter._organizing_role_of = (user.pk, role)  # type: ignore[attr-defined]
    return role


def forget_role(letter: Letter) -> None:
    """Drop the cached role (after a service changed memberships of this letter in the same request)."""
    letter.__dict__.pop("_organizing_role_of", None)


def has_second_factor(user: Any) -> bool:
    if not is_signed_in(user):
        return False
    return Authenticator.objects.filter(user=user, type__in=SECOND_FACTOR_TYPES).exists()


@rules.predicate
def is_staff(user: Any) -> bool:
    return is_signed_in(user) and bool(user.is_staff)


@rules.predicate
def is_owner(user: Any, letter: Letter) -> bool:
    return member_role(user, letter) == Role.OWNER


@rules.predicate
def is_member(user: Any, letter: Letter) -> bool:
    return member_role(user, letter) is not None


@rules.predicate
def second_factor_set_up(user: Any) -> bool:
    return has_second_factor(user)


def _role_in(roles: frozenset[str]) -> rules.Predicate:
    def role_in(user: Any, letter: Letter) -> bool:
        return member_role(user, letter) in roles

    return rules.Predicate(role_in, name=f"role_in:{','.join(sorted(roles))}")


must_have_second_factor = is_owner | is_staff

# The role matrix alone (no second-factor rule): tells "not your role" from "set up 2FA first".
role_rules = rules.RuleSet()
for _permission, _roles in ROLES_ALLOWED.items():
    _allowed = _role_in(_roles) | is_staff
    role_rules.add_rule(_permission, _allowed)
    if _permission in SECOND_FACTOR_EXEMPT:
        rules.add_perm(_permission, _allowed)
    else:
        rules.add_perm(_permission, _allowed & (~must_have_second_factor | second_factor_set_up))


def _known(permission: str) -> None:
    if permission not in ROLES_ALLOWED:
        raise ValueError(f"Unknown organizing permission {permission!r}; one of {', '.join(PERMISSIONS)}")


def role_allows(user: Any, permission: str, letter: Letter) -> bool:
    """The role matrix alone: whether the user's role (or staff) covers the permission, second factor aside."""
    _known(permission)
    return bool(role_rules.test_rule(permission, user, letter))


def can(user: Any, permission: str, letter: Letter) -> bool:
    """Whether the user may do it now: the role matrix plus the second-factor rule (superusers included)."""
    _known(permission)
    return bool(rules.has_perm(permission, user, letter))


def permission_require(*, user: Any, letter: Letter, permission: str) -> None:
    """Raise PermissionDenied when the role does not allow it, SecondFactorRequired when only 2FA is missing."""
    if can(user, permission, letter):
        return
    if role_allows(user, permission, letter):
        raise SecondFactorRequired()
    raise PermissionDenied(ROLE_DENIED_MESSAGE)


def second_factor_recommended(user: Any) -> bool:
    """Members without a second factor see a banner recommending one (owners and staff cannot act without)."""
    return is_signed_in(user) and not has_second_factor(user)
