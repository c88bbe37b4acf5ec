"""The public view of a signature: the one shape every public endpoint uses. Never add private fields here."""

from datetime import UTC

from rest_framework import serializers

from letters.models import Signature
from registry.models import Organization

NAME_WITHHELD = "Name withheld"


def _iso(moment) -> str | None:
    """DRF's rendering of an aware datetime in UTC ("…Z"), without its per-call setup (hot in list pages)."""
    if moment is None:
        return None
    text = moment.astimezone(UTC).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


class PublicOrganizationSerializer(serializers.Serializer):
    name = serializers.CharField()
    slug = serializers.CharField(allow_null=True)


class PublicVerificationSerializer(serializers.Serializer):
    level = serializers.CharField()
    method = serializers.CharField(allow_null=True)
    verified_at = serializers.DateTimeField(allow_null=True)


class PublicSignatureSerializer(serializers.Serializer):
    """Expects signatures fetched with select_related("organization", "verification", "version")."""

    id = serializers.CharField(source="public_id")
    name = serializers.SerializerMethodField()
    name_withheld = serializers.SerializerMethodField()
    title = serializers.SerializerMethodField()
    organization = serializers.SerializerMethodField()
    verification = serializers.SerializerMethodField()
    signed_at = serializers.DateTimeField(source="confirmed_at")
    version = serializers.IntegerField(source="version.number")

    def to_representation(self, obj: Signature) -> dict:
        """Built directly (same fields as declared above): list pages serialize hundreds of rows per request."""
        public = obj.is_public
        return {
            "id": obj.public_id,
            "name": obj.name if public else NAME_WITHHELD,
            "name_withheld": not public,
            "title": obj.title if public else "",
            "organization": self.get_organization(obj),
            "verification": self.get_verification(obj),
            "signed_at": _iso(obj.confirmed_at),
            "version": obj.version.number,
        }

    def get_name(self, obj: Signature) -> str:
        return obj.name if obj.is_public else NAME_WITHHELD

    def get_name_withheld(self, obj: Signature) -> bool:
        return not obj.is_public

    def get_title(self, obj: Signature) -> str:
        return obj.title if obj.is_public else ""

    def get_organization(self, obj: Signature) -> dict | None:
        if obj.organization_id is not None and obj.organization.status == Organization.Status.REVIEWED:
            return {"name": obj.organization.name, "slug": obj.organization.slug}
        if obj.organization_name:
            return {"name": obj.organization_name, "slug": None}
        return None

    def get_verification(self, obj: Signature) -> dict:
        record = obj.verification
        if record is not None:
            return {"level": obj.verification_level, "method": record.method, "verified_at": _iso(record.verified_at)}
        verified_at = obj.confirmed_at if obj.verification_level == "email" else None
        return {
            "level": obj.verification_level,
            "method": "email" if verified_at else None,
            "verified_at": _iso(verified_at),
        }
