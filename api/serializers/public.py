"""The public view of a signature as DRF serializers; the rules themselves live in letters.presentation."""

from collections.abc import Mapping
from typing import Any

from rest_framework import serializers

from api.serializers.base import Serializer
from letters.models import Signature
from letters.presentation import public_signature_row, shown_organization, signature_row


class PublicOrganizationSerializer(Serializer):
    name = serializers.CharField()
    slug = serializers.CharField(allow_null=True)


class PublicVerificationSerializer(Serializer):
    level = serializers.CharField()
    method = serializers.CharField(allow_null=True)
    verified_at = serializers.DateTimeField(allow_null=True)


def reconsent_from_of(obj: Signature | Mapping[str, Any], context: Mapping[str, Any]) -> int:
    """The letter's material_version_number: from the context, else from the signature's letter when it was loaded
    with it (lists across letters), else 1 (nobody awaits re-consent)."""
    if "reconsent_from" in context:
        return context["reconsent_from"]
    if isinstance(obj, Signature) and Signature.letter.is_cached(obj):
        return obj.letter.material_version_number
    return 1


class PublicSignatureSerializer(Serializer):
    """Expects signatures fetched with select_related("organization", "verification", "version"), or value rows."""

    id = serializers.CharField(source="public_id")
    name = serializers.CharField()
    name_withheld = serializers.BooleanField()
    title = serializers.CharField()
    organization = PublicOrganizationSerializer(allow_null=True)
    verification = PublicVerificationSerializer()
    signed_at = serializers.DateTimeField(source="confirmed_at")
    version = serializers.IntegerField(source="version.number", help_text="The version of the text it was signed on.")
    awaiting_reconsent = serializers.BooleanField(
        help_text='Signed on a version older than the latest material change: listed as "signed version N" until the '
        "signer re-consents to the new text or withdraws."
    )

    def to_representation(self, obj: Signature | Mapping[str, Any]) -> dict:
        return public_signature_row(
            obj if isinstance(obj, Mapping) else signature_row(obj), reconsent_from=reconsent_from_of(obj, self.context)
        )

    def get_organization(self, obj: Signature) -> dict | None:
        return shown_organization(signature_row(obj))
