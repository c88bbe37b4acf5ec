"""Serializers of the members and invitations API (/api/v1/manage/letters/{slug}/members/, …/invitations/).

Members of a letter see one another's account addresses (they organize it together); these answers are never
public. Invitation answers carry the invited address but never the token (it exists only in the email)."""

from typing import Any

from rest_framework import serializers

from api.serializers.base import Serializer
from organizing.models import Membership, OrganizerInvitation, Role

ROLE_HELP = "owner, editor, moderator or viewer (organizing/permissions.py says what each may do)."


class MemberSerializer(serializers.ModelSerializer):
    email = serializers.EmailField(source="user.email", read_only=True)
    is_you = serializers.SerializerMethodField()
    joined_at = serializers.DateTimeField(source="created_at", read_only=True)

    class Meta:
        model = Membership
        fields = ["id", "email", "role", "is_you", "joined_at"]
        read_only_fields = fields

    def get_is_you(self, membership: Membership) -> bool:
        request = self.context.get("request")
        return bool(request is not None and request.user.pk == membership.user_id)


class RoleInputSerializer(Serializer):
    role = serializers.ChoiceField(choices=Role.choices, help_text=ROLE_HELP)


class InvitationInputSerializer(Serializer):
    email = serializers.CharField(max_length=254, help_text="Where the single-use link is sent.")
    role = serializers.ChoiceField(choices=Role.choices, help_text=ROLE_HELP)


class InvitationSerializer(serializers.ModelSerializer):
    id = serializers.CharField(source="public_id", read_only=True)
    invited_by = serializers.SerializerMethodField()

    class Meta:
        model = OrganizerInvitation
        fields = ["id", "email", "role", "invited_by", "created_at", "expires_at"]
        read_only_fields = fields

    def get_invited_by(self, invitation: OrganizerInvitation) -> str | None:
        inviter: Any = invitation.invited_by
        return inviter.email if inviter is not None else None


class AcceptInputSerializer(Serializer):
    token = serializers.CharField(
        max_length=200, help_text="The token of the emailed link /manage/invitations/{token}/."
    )


class AcceptedSerializer(Serializer):
    letter = serializers.SlugField(source="letter.slug")
    title = serializers.CharField(source="letter.title")
    role = serializers.CharField()
