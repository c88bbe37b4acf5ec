"""Staff-only serializers: verification, rejection, duplicate candidates."""

from rest_framework import serializers

from api.serializers.base import Serializer
from letters.models import VerificationRecord
from registry.models import DuplicateCandidate


class VerifyInputSerializer(Serializer):
    method = serializers.ChoiceField(choices=[VerificationRecord.Method.MANUAL, VerificationRecord.Method.INVITED])
    evidence = serializers.CharField(max_length=2000)
    evidence_url = serializers.URLField(required=False, allow_blank=True, max_length=500)


class RejectInputSerializer(Serializer):
    reason = serializers.CharField(max_length=2000, help_text="Private; kept for admins.")
    public_reason = serializers.CharField(
        max_length=200, required=False, allow_blank=True, help_text="Shown in the public change feed."
    )


class StaffSignatureSerializer(Serializer):
    id = serializers.CharField(source="public_id")
    name = serializers.CharField()
    title = serializers.CharField()
    organization_name = serializers.CharField()
    email = serializers.EmailField()
    status = serializers.CharField()
    verification_level = serializers.CharField()
    hold_reason = serializers.CharField()
    confirmed_at = serializers.DateTimeField()


class StaffHeldSignatureSerializer(StaffSignatureSerializer):
    letter = serializers.CharField(source="letter.slug")
    hold_reason_label = serializers.CharField(source="get_hold_reason_display")
    signed_at = serializers.DateTimeField()


class PersonBriefSerializer(Serializer):
    id = serializers.CharField(source="public_id")
    name = serializers.CharField(source="display_name")
    merged_into = serializers.SerializerMethodField()

    def get_merged_into(self, person) -> str | None:
        return person.merged_into.public_id if person.merged_into_id else None


class DuplicateCandidateSerializer(serializers.ModelSerializer):
    person_a = PersonBriefSerializer()
    person_b = PersonBriefSerializer()

    class Meta:
        model = DuplicateCandidate
        fields = ["id", "person_a", "person_b", "score", "reasons", "status", "created_at", "decided_at"]
