"""Reads of the organizer side: a user's letters, one letter fetched for a purpose, members and invitations."""

import hashlib
from datetime import datetime
from typing import Any

from django.db.models import Case, IntegerField, OuterRef, QuerySet, Subquery, Value, When
from django.http import Http404
from django.utils import timezone

from letters.models import Letter
from organizing.models import Membership, OrganizerInvitation, Role
from organizing.permissions import is_signed_in, is_staff, permission_require

ROLE_ORDER = Case(
    When(role=Role.OWNER, then=Value(0)),
    When(role=Role.EDITOR, then=Value(1)),
    When(role=Role.MODERATOR, then=Value(2)),
    default=Value(3),
    output_field=IntegerField(),
)


def letters_of_member(*, user: Any) -> QuerySet[Letter]:
    """The letters the user is a member of (staff are not members of every letter), each with `member_role`."""
    if not is_signed_in(user):
        return Letter.objects.none()
    role = Membership.objects.filter(letter=OuterRef("pk"), user=user).values("role")[:1]
    return (
        Letter.objects.filter(memberships__user=user)
        .annotate(member_role=Subquery(role))
        .select_related("current_version")
        .order_by("-created_at", "slug")
    )


def letters_for_staff(*, user: Any) -> QuerySet[Letter]:
    """For staff, the letters they are not a member of (each of whose pages they may open); for anyone else none."""
    if not is_signed_in(user) or not user.is_staff:
        return Letter.objects.none()
    return (
        Letter.objects.exclude(memberships__user=user).select_related("current_version").order_by("-created_at", "slug")
    )


def letter_for_member(*, user: Any, slug: str, permission: str) -> Letter:
    """The letter with `slug` for a member (or staff) allowed `permission`.

    Raises Http404 when the user is neither a member of that letter nor staff (the same answer as a letter that does
    not exist: nothing tells an organizer of another letter that it does), SecondFactorRequired when the role allows
    it but two-factor login is not set up yet, PermissionDenied when the role does not allow it.
    """
    letter = Letter.objects.filter(slug=slug).select_related("current_version").first()
    if letter is None or not is_signed_in(user):
        raise Http404("No such letter.")
    if not is_staff(user) and not Membership.objects.filter(letter=letter, user=user).exists():
        raise Http404("No such letter.")
    permission_require(user=user, letter=letter, permission=permission)
    return letter


def membership_of(*, user: Any, letter: Letter) -> Membership | None:
    if not is_signed_in(user):
        return None
    return Membership.objects.filter(letter=letter, user=user).first()


def members_of_letter(*, letter: Letter) -> QuerySet[Membership]:
    """The letter's members, owners first, then by email."""
    return (
        Membership.objects.filter(letter=letter)
        .select_related("user")
        .annotate(role_rank=ROLE_ORDER)
        .order_by("role_rank", "user__email", "id")
    )


def membership_of_letter(*, letter: Letter, membership_id: int | str) -> Membership:
    """One membership of this letter by id; Http404 for an id of another letter or none (ids are not secrets, but
    a member of letter A learns nothing of letter B from them)."""
    try:
        pk = int(membership_id)
    except (TypeError, ValueError):
        raise Http404("Not found.") from None
    membership = Membership.objects.filter(letter=letter, pk=pk).select_related("user", "letter").first()
    if membership is None:
        raise Http404("Not found.")
    return membership


def owner_count(*, letter: Letter) -> int:
    return Membership.objects.filter(letter=letter, role=Role.OWNER).count()


def invitations_pending(*, letter: Letter, now: datetime | None = None) -> QuerySet[OrganizerInvitation]:
    """Invitations of this letter neither accepted, revoked nor expired, newest first."""
    return (
        OrganizerInvitation.objects.filter(
            letter=letter, accepted_at=None, revoked_at=None, expires_at__gt=now or timezone.now()
        )
        .select_related("invited_by")
        .order_by("-created_at", "-id")
    )


def invitation_of_letter(*, letter: Letter, public_id: str) -> OrganizerInvitation:
    """One invitation of this letter by its public id; Http404 for another letter's or none."""
    invitation = OrganizerInvitation.objects.filter(letter=letter, public_id=public_id).first()
    if invitation is None:
        raise Http404("Not found.")
    return invitation


INVITATION_USED = "This invitation was used already."
INVITATION_REVOKED = "This invitation was revoked."
INVITATION_EXPIRED = "This invitation has expired: ask an owner of the letter for a new one."


def invitation_unusable_reason(*, invitation: OrganizerInvitation, now: datetime | None = None) -> str:
    """Why the link no longer works (used, revoked, expired), or "" while it does."""
    if invitation.accepted_at is not None:
        return INVITATION_USED
    if invitation.revoked_at is not None:
        return INVITATION_REVOKED
    if invitation.expires_at <= (now or timezone.now()):
        return INVITATION_EXPIRED
    return ""


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def invitation_by_token(*, token: str) -> OrganizerInvitation | None:
    """The invitation a link's token belongs to (whatever its state), or None."""
    if not token or len(token) > 200:
        return None
    return OrganizerInvitation.objects.filter(token_hash=token_hash(token)).select_related("letter").first()
