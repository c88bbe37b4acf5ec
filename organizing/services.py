"""Writes of the organizer side: memberships, their roles, co-organizer invitations. Each is audited.

Bad input raises ValidationError with field errors before anything is written; an actor whose role does not allow
the change gets PermissionDenied (SecondFactorRequired when only two-factor login is missing), from the same rules
the pages and the API use (organizing/permissions.py).

Locks: a role change or removal first locks the letter's owner memberships (ascending id), then the member's row,
and counts owners under those locks; two owners demoting each other at once therefore run one after the other and
the second is refused. No other row is locked (no letter, no signature).
"""

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from allauth.account.models import EmailAddress
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from letters.models import Letter
from organizing.emails import invitation_email_enqueue
from organizing.models import ROLE_VALUES, Membership, OrganizerInvitation, Role
from organizing.permissions import MANAGE_MEMBERS, forget_role, is_signed_in, permission_require
from organizing.selectors import invitation_by_token, invitation_unusable_reason, token_hash
from registry.audit import Actor, audit_log
from registry.emails import email_normalize

TOKEN_BYTES = 32  # 256 bits
# Live invitations a letter may have at once: each is an email to an address the owner typed.
PENDING_INVITATIONS_MAX = 50
LAST_OWNER_MESSAGE = "A letter keeps at least one owner: make another member owner first."
INVITATION_INVALID_MESSAGE = "This invitation link is not valid."


@dataclass(frozen=True)
class IssuedInvitation:
    """A new invitation and its token (only ever in the email; the database holds its sha256)."""

    invitation: OrganizerInvitation
    token: str


def _role_checked(role: str, field: str = "role") -> str:
    if role not in ROLE_VALUES:
        raise ValidationError({field: [f"Choose one of: {', '.join(ROLE_VALUES)}."]})
    return role


def membership_change_refusal(*, membership: Membership, role: str | None) -> str:
    """Why giving `membership` the `role` (None: removing it) is refused — it would leave the letter without an
    owner — or "" when it is not. The services ask it under the owner locks; admin forms ask it to show the error."""
    if membership.role != Role.OWNER or role == Role.OWNER:
        return ""
    others = Membership.objects.filter(letter_id=membership.letter_id, role=Role.OWNER).exclude(pk=membership.pk)
    return "" if others.exists() else LAST_OWNER_MESSAGE


def _owners_locked(letter: Letter) -> list[int]:
    """Lock the letter's owner memberships (ascending id) and return their ids."""
    return list(
        Membership.objects.filter(letter=letter, role=Role.OWNER)
        .select_for_update(of=("self",), no_key=True)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def _membership_locked(membership: Membership) -> Membership:
    """The membership re-read under its row lock (taken after the owner locks, if any); ValidationError if gone."""
    current = (
        Membership.objects.filter(pk=membership.pk)
        .select_for_update(of=("self",), no_key=True)
        .select_related("letter", "user")
        .first()
    )
    if current is None:
        raise ValidationError({"membership": ["This member was removed meanwhile."]})
    return current


@transaction.atomic
def membership_add(*, letter: Letter, user: Any, role: str, actor: Actor, at: datetime | None = None) -> Membership:
    """Make `user` a member of `letter` with `role` (the creator of a letter becomes its owner this way).

    Does not check the actor's rights: callers are letter creation (the creator, not a member yet), an accepted
    invitation, and admin; pages and the API invite instead.
    """
    _role_checked(role)
    if not is_signed_in(user):
        raise ValidationError({"user": ["Choose an active user."]})
    if Membership.objects.filter(letter=letter, user=user).exists():
        raise ValidationError({"user": ["This user is already a member of this letter."]})
    try:
        with transaction.atomic():
            membership = Membership.objects.create(letter=letter, user=user, role=role, added_by=_user_or_none(actor))
    except IntegrityError:  # a concurrent add of the same user won the unique (letter, user) index
        raise ValidationError({"user": ["This user is already a member of this letter."]}) from None
    audit_log(
        action="organizing.membership.added",
        target=membership,
        actor=actor,
        at=at,
        data={"letter": letter.slug, "user": user.pk, "role": role},
    )
    forget_role(letter)
    return membership


def _user_or_none(actor: Actor) -> Any:
    return actor if is_signed_in(actor) else None


@transaction.atomic
def membership_role_change(*, membership: Membership, role: str, actor: Actor) -> Membership:
    """Give a member another role (owners, and staff with two-factor login, only). The last owner cannot be demoted."""
    _role_checked(role)
    letter = membership.letter
    permission_require(user=actor, letter=letter, permission=MANAGE_MEMBERS)
    _owners_locked(letter)
    current = _membership_locked(membership)
    if membership_change_refusal(membership=current, role=role):
        raise ValidationError({"role": [LAST_OWNER_MESSAGE]})
    if current.role == role:
        return current
    previous = current.role
    current.role = role
    current.save(update_fields=["role", "updated_at"])
    audit_log(
        action="organizing.membership.role_changed",
        target=current,
        actor=actor,
        data={"letter": letter.slug, "user": current.user_id, "from": previous, "to": role},
    )
    forget_role(letter)
    membership.role = role
    return current


@transaction.atomic
def membership_remove(*, membership: Membership, actor: Actor) -> None:
    """Remove a member: owners (and staff with two-factor login) remove anyone, every member may leave.

    The last owner can neither leave nor be removed.
    """
    letter = membership.letter
    leaving = is_signed_in(actor) and getattr(actor, "pk", None) == membership.user_id
    if not leaving:
        permission_require(user=actor, letter=letter, permission=MANAGE_MEMBERS)
    _owners_locked(letter)
    current = _membership_locked(membership)
    if membership_change_refusal(membership=current, role=None):
        raise ValidationError({"membership": [LAST_OWNER_MESSAGE]})
    audit_log(
        action="organizing.membership.left" if leaving else "organizing.membership.removed",
        target=current,
        actor=actor,
        data={"letter": letter.slug, "user": current.user_id, "role": current.role},
    )
    current.delete()
    forget_role(letter)


def _is_member_by_email(letter: Letter, email_key: str) -> bool:
    """Whether a member has this address (any of their account's addresses, verified or not)."""
    addresses = [
        *Membership.objects.filter(letter=letter).values_list("user__email", flat=True),
        *EmailAddress.objects.filter(user__memberships__letter=letter).values_list("email", flat=True),
    ]
    return any(_key_or_none(address) == email_key for address in addresses if address)


def _key_or_none(address: str) -> str | None:
    try:
        return email_normalize(address)[1]
    except ValidationError:
        return None


@transaction.atomic
def organizer_invitation_create(
    *, letter: Letter, email: str, role: str, actor: Actor, at: datetime | None = None
) -> IssuedInvitation:
    """Invite `email` to co-organize `letter` as `role`: a single-use link, valid ORGANIZER_INVITATION_TTL, emailed
    through the outbox. One live invitation per address: an expired one is revoked first; a live one is refused."""
    now = at or timezone.now()
    permission_require(user=actor, letter=letter, permission=MANAGE_MEMBERS)
    errors: dict[str, list[str]] = {}
    try:
        normalized, key = email_normalize(email)
    except ValidationError as exc:
        errors["email"] = list(exc.messages)
    if role not in ROLE_VALUES:
        errors["role"] = [f"Choose one of: {', '.join(ROLE_VALUES)}."]
    if errors:
        raise ValidationError(errors)
    live = OrganizerInvitation.objects.filter(letter=letter, accepted_at=None, revoked_at=None, expires_at__gt=now)
    if live.exclude(email_key=key).count() >= PENDING_INVITATIONS_MAX:
        raise ValidationError(
            {
                "email": [
                    f"This letter has {PENDING_INVITATIONS_MAX} pending invitations: revoke some before sending more."
                ]
            }
        )
    if _is_member_by_email(letter, key):
        raise ValidationError({"email": ["Someone with this address is already a member of this letter."]})
    pending = OrganizerInvitation.objects.filter(letter=letter, email_key=key, accepted_at=None, revoked_at=None)
    for old in pending.select_for_update(of=("self",), no_key=True):
        if old.expires_at > now:
            raise ValidationError(
                {"email": ["This address already has a pending invitation: revoke it to send a new one."]}
            )
        _invitation_revoke(invitation=old, actor=actor, at=now, reason="expired, superseded")
    token = secrets.token_urlsafe(TOKEN_BYTES)
    try:
        with transaction.atomic():
            invitation = OrganizerInvitation.objects.create(
                letter=letter,
                email=normalized,
                email_key=key,
                role=role,
                token_hash=token_hash(token),
                invited_by=_user_or_none(actor),
                created_at=now,
                expires_at=now + settings.ORGANIZER_INVITATION_TTL,
            )
    except IntegrityError:  # a concurrent invitation of the same address won the partial unique index
        raise ValidationError(
            {"email": ["This address already has a pending invitation: revoke it to send a new one."]}
        ) from None
    audit_log(
        action="organizing.invitation.created",
        target=invitation,
        actor=actor,
        at=now,
        data={"letter": letter.slug, "role": role, "invitation": invitation.public_id},
    )
    invitation_email_enqueue(invitation=invitation, token=token)
    return IssuedInvitation(invitation=invitation, token=token)


def _invitation_revoke(*, invitation: OrganizerInvitation, actor: Actor, at: datetime, reason: str) -> None:
    invitation.revoked_at = at
    invitation.revoked_by = _user_or_none(actor)
    invitation.save(update_fields=["revoked_at", "revoked_by"])
    audit_log(
        action="organizing.invitation.revoked",
        target=invitation,
        actor=actor,
        at=at,
        data={"letter": invitation.letter.slug, "invitation": invitation.public_id, "reason": reason},
    )


@transaction.atomic
def organizer_invitation_revoke(
    *, invitation: OrganizerInvitation, actor: Actor, at: datetime | None = None
) -> OrganizerInvitation:
    """Revoke a pending invitation: its link stops working. An accepted or revoked one is refused."""
    permission_require(user=actor, letter=invitation.letter, permission=MANAGE_MEMBERS)
    current = (
        OrganizerInvitation.objects.filter(pk=invitation.pk)
        .select_for_update(of=("self",), no_key=True)
        .select_related("letter")
        .get()
    )
    if current.accepted_at is not None:
        raise ValidationError({"invitation": ["This invitation was accepted already; remove the member instead."]})
    if current.revoked_at is not None:
        raise ValidationError({"invitation": ["This invitation was revoked already."]})
    _invitation_revoke(invitation=current, actor=actor, at=at or timezone.now(), reason="revoked")
    return current


def _verified_email_keys(user: Any) -> set[str]:
    addresses = EmailAddress.objects.filter(user=user, verified=True).values_list("email", flat=True)
    return {key for key in (_key_or_none(address) for address in addresses) if key}


@transaction.atomic
def organizer_invitation_accept(*, token: str, user: Any, at: datetime | None = None) -> Membership:
    """Spend an invitation's token: `user` becomes a member with the invited role.

    The link works once, before it expires, unless revoked. The accepting account must have the invited address
    among its verified addresses: a forwarded or leaked link does not let another account in (the invitee can add
    and verify the address in their account first). Errors name the `token` field (invalid, used, revoked, expired)
    or `email` (address not verified on this account); nothing changes then.
    """
    now = at or timezone.now()
    if not is_signed_in(user):
        raise PermissionDenied("Sign in to accept an invitation.")
    found = invitation_by_token(token=token)
    if found is None:
        raise ValidationError({"token": [INVITATION_INVALID_MESSAGE]})
    invitation = (
        OrganizerInvitation.objects.filter(pk=found.pk)
        .select_for_update(of=("self",), no_key=True)
        .select_related("letter")
        .get()
    )
    unusable = invitation_unusable_reason(invitation=invitation, now=now)
    if unusable:
        raise ValidationError({"token": [unusable]})
    if invitation.email_key not in _verified_email_keys(user):
        raise ValidationError(
            {
                "email": [
                    "This invitation was sent to another address. Add and verify that address in your account's "
                    "email settings, then open the link again."
                ]
            }
        )
    if Membership.objects.filter(letter=invitation.letter, user=user).exists():
        raise ValidationError({"token": ["You are already a member of this letter."]})
    invitation.accepted_at = now
    invitation.accepted_by = user
    invitation.save(update_fields=["accepted_at", "accepted_by"])
    audit_log(
        action="organizing.invitation.accepted",
        target=invitation,
        actor=user,
        at=now,
        data={"letter": invitation.letter.slug, "invitation": invitation.public_id, "user": user.pk},
    )
    return membership_add(letter=invitation.letter, user=user, role=invitation.role, actor=user, at=now)
