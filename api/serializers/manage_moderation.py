"""Organizers' bulk invalidations: input and output serializers (the rules live in moderation/)."""

from rest_framework import serializers

from api.serializers.base import Serializer
from moderation.criteria import FIELDS
from moderation.models import Invalidation


class CriteriaField(serializers.DictField):
    def __init__(self, **kwargs):
        super().__init__(
            child=serializers.CharField(allow_blank=True, max_length=400),
            help_text=f"Any of: {', '.join(FIELDS)} (at least one).",
            **kwargs,
        )


class PreviewInputSerializer(Serializer):
    criteria = CriteriaField()


class StartInputSerializer(Serializer):
    criteria = CriteriaField()
    reason = serializers.CharField(max_length=500, help_text="Private: why (audit trail).")
    public_reason = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    confirm_large = serializers.BooleanField(required=False, default=False)


class SampleSignatureSerializer(Serializer):
    id = serializers.CharField(source="public_id")
    name = serializers.CharField()
    organization = serializers.CharField(source="organization_name")
    status = serializers.CharField()
    level = serializers.CharField(source="verification_level")
    # A declared field, taken off the class by the serializer metaclass: it does not shadow Field.source.
    source = serializers.CharField()  # type: ignore[assignment]
    hold_reason = serializers.CharField()
    signed_at = serializers.DateTimeField()


class InvalidationPreviewSerializer(Serializer):
    criteria = serializers.DictField(child=serializers.CharField())
    count = serializers.IntegerField()
    live = serializers.IntegerField()
    share = serializers.FloatField()
    needs_confirmation = serializers.BooleanField()
    sample = SampleSignatureSerializer(many=True)


class InvalidationSerializer(serializers.ModelSerializer):
    id = serializers.CharField(source="public_id")
    created_by = serializers.SerializerMethodField()

    class Meta:
        model = Invalidation
        fields = [
            "id",
            "criteria",
            "criteria_sha256",
            "reason",
            "public_reason",
            "status",
            "matched",
            "removed",
            "restored",
            "cancel_requested",
            "created_by",
            "created_at",
            "started_at",
            "finished_at",
            "undone_at",
        ]

    def get_created_by(self, obj: Invalidation) -> str | None:
        return obj.created_by.get_username() if obj.created_by else None
