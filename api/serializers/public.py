"""The public view of a signature as DRF serializers; the rules themselves live in letters.presentation."""

from collections.abc import Mapping
from typing import Any

from rest_framework import serializers

from letters.models import Signature
from letters.presentation import public_signature_row, shown_organization, signature_row


class PublicOrganizationSerializer(serializers.Serializer):
    name = serializers.CharField()
    slug = serializers.CharField(allow_null=True)


class PublicVerificationSerializer(serializers.Serializer):
    level = serializers.CharField()
    method = serializers.CharField(allow_null=True)
    verified_at = serializers.DateTimeField(allow_null=True)


class PublicSignatureSerializer(serializers.Serializer):
    """Expects signatures fetched with select_related("organization", "verification", "version"), or value rows."""

    id = serializers.CharField(source="public_id")
    name = serializers.CharField()
    name_withheld = serializers.BooleanField()
    title = serializers.CharField()
    organization = PublicOrganizationSerializer(allow_null=True)
    verification = PublicVerificationSerializer()
    signed_at = serializers.DateTimeField(source="confirmed_at")
    version = serializers.IntegerField(source="version.number")

    def to_representation(self, obj: Signature | Mapping[str, Any]) -> dict:
        return public_signature_row(obj if isinstance(obj, Mapping) else signature_row(obj))

    def get_organization(self, obj: Signature) -> dict | None:
        return shown_organization(signature_row(obj))
