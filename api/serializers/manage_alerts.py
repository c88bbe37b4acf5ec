"""Organizers' trending alerts: the output serializer (hashes only in their short form; the rules live in
moderation.alerts)."""

from urllib.parse import urlencode

from django.urls import reverse
from rest_framework import serializers

from api.serializers.base import Serializer
from moderation.alerts import alert_invalidation_criteria
from moderation.models import TrendingAlert


class TrendingAlertSerializer(serializers.ModelSerializer):
    id = serializers.CharField(source="public_id")
    key = serializers.CharField(
        source="key_shown", help_text="The email domain, or the first characters of the address's or network's hash."
    )
    acknowledged_by = serializers.SerializerMethodField()
    invalidation_criteria = serializers.SerializerMethodField(
        help_text="Bulk invalidation criteria for this wave: POST them to …/invalidations/preview."
    )
    invalidation_page = serializers.SerializerMethodField(help_text="The bulk invalidation page, filled in.")

    class Meta:
        model = TrendingAlert
        fields = [
            "id",
            "dimension",
            "key",
            "count",
            "peak",
            "threshold",
            "window_seconds",
            "status",
            "first_seen_at",
            "last_seen_at",
            "resolved_at",
            "acknowledged_by",
            "acknowledged_at",
            "created_at",
            "invalidation_criteria",
            "invalidation_page",
        ]

    def get_acknowledged_by(self, obj: TrendingAlert) -> str | None:
        return obj.acknowledged_by.get_username() if obj.acknowledged_by else None

    def get_invalidation_criteria(self, obj: TrendingAlert) -> dict[str, str]:
        return alert_invalidation_criteria(obj)

    def get_invalidation_page(self, obj: TrendingAlert) -> str:
        url = reverse("manage-invalidations", kwargs={"slug": obj.letter.slug})
        return f"{url}?{urlencode(alert_invalidation_criteria(obj))}"


def _threshold(help_text: str) -> serializers.IntegerField:
    return serializers.IntegerField(
        required=False, allow_null=True, min_value=1, max_value=1_000_000, help_text=help_text
    )


class AlertThresholdsInputSerializer(Serializer):
    ip = _threshold("Signatures from one address in the window; null: the deployment's ALERT_IP_THRESHOLD.")
    ip_prefix = _threshold("From one /24 or /64; null: ALERT_PREFIX_THRESHOLD.")
    email_domain = _threshold("From one (non-webmail) email domain; null: ALERT_DOMAIN_THRESHOLD.")


class ThresholdValuesSerializer(Serializer):
    ip = serializers.IntegerField(allow_null=True)
    ip_prefix = serializers.IntegerField(allow_null=True)
    email_domain = serializers.IntegerField(allow_null=True)


class AlertThresholdsSerializer(Serializer):
    own = ThresholdValuesSerializer(help_text="The letter's own (null: the deployment's).")
    defaults = ThresholdValuesSerializer()
    effective = ThresholdValuesSerializer()
