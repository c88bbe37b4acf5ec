"""Organizers' held queue in bulk: input and output serializers (the rules live in moderation.held)."""

from rest_framework import serializers

from api.serializers.base import Serializer
from api.serializers.manage_moderation import SampleSignatureSerializer
from moderation.held import ACTIONS, FILTERS, MAX_SELECTION, VERIFY_METHODS


class HeldBulkInputSerializer(Serializer):
    action = serializers.ChoiceField(choices=ACTIONS)
    signatures = serializers.ListField(
        child=serializers.CharField(max_length=24),
        required=False,
        max_length=MAX_SELECTION,
        help_text="Public ids of held signatures; or all_matching.",
    )
    all_matching = serializers.BooleanField(required=False, default=False, help_text="Every one matching filters.")
    filters = serializers.DictField(
        child=serializers.CharField(allow_blank=True, max_length=200),
        required=False,
        help_text=f"Any of: {', '.join(FILTERS)}.",
    )
    confirmation = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=64,
        help_text="Absent: preview (count, sample, confirmation). The preview's confirmation: act.",
    )
    method = serializers.ChoiceField(choices=VERIFY_METHODS, required=False, help_text="verify: how (manual).")
    evidence = serializers.CharField(required=False, allow_blank=True, max_length=2000, help_text="verify: evidence.")
    evidence_url = serializers.URLField(required=False, allow_blank=True, max_length=500)
    reason = serializers.CharField(required=False, allow_blank=True, max_length=2000, help_text="reject: private.")
    public_reason = serializers.CharField(required=False, allow_blank=True, max_length=200)


class HeldBulkPreviewSerializer(Serializer):
    action = serializers.CharField()
    count = serializers.IntegerField()
    sample = SampleSignatureSerializer(many=True)
    confirmation = serializers.CharField(help_text="Send it back, with the same selection, to act.")


class HeldBulkResultSerializer(Serializer):
    action = serializers.CharField()
    done = serializers.IntegerField()
    skipped = serializers.IntegerField(help_text="Changed by someone else meanwhile: left as they were.")
