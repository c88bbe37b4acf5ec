"""The public view of a signature: the one shape every public endpoint uses. Never add private fields here."""

from collections.abc import Mapping
from datetime import UTC
from typing import Any

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


def public_signature_row(row: Mapping[str, Any]) -> dict:
    """The public shape of a signature from a row of letters.selectors.PUBLIC_ROW_FIELDS (list pages read values,
    not model instances); PublicSignatureSerializer gives the same shape for an instance."""
    public = row["is_public"]
    return {
        "id": row["public_id"],
        "name": row["name"] if public else NAME_WITHHELD,
        "name_withheld": not public,
        "title": row["title"] if public else "",
        "organization": _organization(row),
        "verification": _verification(row),
        "signed_at": _iso(row["confirmed_at"]),
        "version": row["version__number"],
    }


def _organization(row: Mapping[str, Any]) -> dict | None:
    if row["organization_id"] is not None and row["organization__status"] == Organization.Status.REVIEWED:
        return {"name": row["organization__name"], "slug": row["organization__slug"]}
    if row["organization_name"]:
        return {"name": row["organization_name"], "slug": None}
    return None


def _verification(row: Mapping[str, Any]) -> dict:
    level = row["verification_level"]
    if row["verification_id"] is not None:
        return {
            "level": level,
            "method": row["verification__method"],
            "verified_at": _iso(row["verification__verified_at"]),
        }
    verified_at = row["confirmed_at"] if level == "email" else None
    return {"level": level, "method": "email" if verified_at else None, "verified_at": _iso(verified_at)}


def _row(obj: Signature) -> dict[str, Any]:
    """An instance (fetched with PUBLIC_SIGNATURE_RELATED) as the row public_signature_row reads."""
    org = obj.organization if obj.organization_id is not None else None
    record = obj.verification if obj.verification_id is not None else None
    return {
        "public_id": obj.public_id, "name": obj.name, "title": obj.title, "is_public": obj.is_public,
        "organization_name": obj.organization_name, "organization_id": obj.organization_id,
        "organization__name": org and org.name, "organization__slug": org and org.slug,
        "organization__status": org and org.status, "verification_level": obj.verification_level,
        "verification_id": obj.verification_id, "verification__method": record and record.method,
        "verification__verified_at": record and record.verified_at, "confirmed_at": obj.confirmed_at,
        "version__number": obj.version.number,
    }  # fmt: skip


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
        return public_signature_row(obj if isinstance(obj, Mapping) else _row(obj))

    def get_organization(self, obj: Signature) -> dict | None:
        return _organization(_row(obj))
