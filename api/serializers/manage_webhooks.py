"""Serializers of the webhooks API (/api/v1/manage/letters/{slug}/webhooks/…). A secret appears once, in the answer
that made it (create, rotate); deliveries show their thin payload and every attempt."""

from rest_framework import serializers

from api.serializers.base import Serializer
from webhooks.models import EVENT_TYPES, Attempt, Delivery, Endpoint

EVENTS_HELP = "Any of: " + ", ".join(EVENT_TYPES) + "."


class EndpointInputSerializer(Serializer):
    url = serializers.CharField(max_length=2000, help_text="https:// (checked again where it resolves, every send).")
    description = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")
    event_types = serializers.ListField(
        child=serializers.CharField(max_length=60), max_length=20, help_text=EVENTS_HELP
    )


class EndpointUpdateSerializer(Serializer):
    url = serializers.CharField(max_length=2000, required=False)
    description = serializers.CharField(max_length=2000, required=False, allow_blank=True)
    event_types = serializers.ListField(
        child=serializers.CharField(max_length=60), max_length=20, required=False, help_text=EVENTS_HELP
    )
    active = serializers.BooleanField(required=False, help_text="false stops sending; true resumes waiting deliveries.")


class EndpointSerializer(serializers.ModelSerializer):
    id = serializers.CharField(source="public_id", read_only=True)

    class Meta:
        model = Endpoint
        fields = ["id", "url", "description", "event_types", "active", "disabled_at", "disabled_reason", "created_at"]
        read_only_fields = fields


class EndpointCreatedSerializer(EndpointSerializer):
    secret = serializers.CharField(read_only=True, help_text="whsec_…: shown this once; only its encryption is kept.")

    class Meta(EndpointSerializer.Meta):
        fields = [*EndpointSerializer.Meta.fields, "secret"]
        read_only_fields = fields


class SecretSerializer(Serializer):
    secret = serializers.CharField(read_only=True, help_text="The new whsec_… secret, shown this once.")
    previous_valid_until = serializers.DateTimeField(read_only=True, help_text="The old secret signs too until then.")


class AttemptSerializer(serializers.ModelSerializer):
    class Meta:
        model = Attempt
        fields = ["at", "status_code", "latency_ms", "error"]
        read_only_fields = fields


class DeliverySerializer(serializers.ModelSerializer):
    attempts_made = serializers.IntegerField(source="attempts", read_only=True)
    attempts = AttemptSerializer(source="attempt_log", many=True, read_only=True)

    class Meta:
        model = Delivery
        fields = [
            "webhook_id", "event_type", "payload", "created_at", "next_attempt_at", "attempts_made", "delivered_at",
            "failed_at", "last_status", "last_error", "attempts",
        ]  # fmt: skip
        read_only_fields = fields


class MilestonesSerializer(Serializer):
    thresholds = serializers.ListField(
        child=serializers.IntegerField(), max_length=100, help_text="The letter's own public counts to announce."
    )
    defaults = serializers.ListField(child=serializers.IntegerField(), read_only=True)
