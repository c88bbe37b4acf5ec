"""Memberships of users in letters (one role each) and invitations of co-organizers."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from letters.models import Letter
from registry.models import new_public_id


class Role(models.TextChoices):
    """A member's role in one letter; what each may do is organizing/permissions.py."""

    OWNER = "owner", "Owner"
    EDITOR = "editor", "Editor"
    MODERATOR = "moderator", "Moderator"
    VIEWER = "viewer", "Viewer"


ROLE_VALUES = [value for value, _label in Role.choices]


class Membership(models.Model):
    Role = Role

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    letter = models.ForeignKey(Letter, on_delete=models.CASCADE, related_name="memberships", db_index=False)
    role = models.CharField(max_length=20, choices=Role.choices)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["letter", "id"]
        constraints = [
            # Leading on letter: it also serves "the members of a letter".
            models.UniqueConstraint(fields=["letter", "user"], name="membership_one_per_user_and_letter"),
            models.CheckConstraint(condition=Q(role__in=ROLE_VALUES), name="membership_role_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.role} of {self.letter_id}"


class OrganizerInvitation(models.Model):
    """An emailed, single-use, expiring link that makes its holder a member of one letter.

    Only the sha256 of the 256-bit token is stored; the token itself exists in the email alone.
    """

    Role = Role

    public_id = models.CharField(max_length=24, unique=True, default=new_public_id, editable=False)
    letter = models.ForeignKey(Letter, on_delete=models.CASCADE, related_name="organizer_invitations", db_index=False)
    email = models.EmailField(max_length=254)
    email_key = models.CharField(max_length=254, help_text="registry.emails.email_key of the address.")
    role = models.CharField(max_length=20, choices=Role.choices)
    token_hash = models.CharField(max_length=64, unique=True, editable=False, help_text="sha256 of the token, hex.")
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["letter", "-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(role__in=ROLE_VALUES), name="organizer_invitation_role_valid"),
            models.CheckConstraint(
                condition=Q(accepted_at__isnull=True) | Q(revoked_at__isnull=True),
                name="organizer_invitation_accepted_or_revoked_not_both",
            ),
            models.CheckConstraint(
                condition=Q(accepted_by__isnull=True) | Q(accepted_at__isnull=False),
                name="organizer_invitation_acceptor_has_time",
            ),
            models.CheckConstraint(
                condition=Q(expires_at__gt=models.F("created_at")), name="organizer_invitation_expires_after_creation"
            ),
            # One live link per address and letter: a new invitation first revokes an expired one.
            models.UniqueConstraint(
                fields=["letter", "email_key"],
                condition=Q(accepted_at__isnull=True, revoked_at__isnull=True),
                name="organizer_invitation_one_pending_per_address",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.role} invitation {self.public_id} to {self.letter_id}"
