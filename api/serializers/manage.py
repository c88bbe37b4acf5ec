"""Serializers of the organizers' API (/api/v1/manage/). Emails appear only in the fields marked private, which the
views fill for roles allowed to see them (organizing.export_private) and leave null otherwise."""

from typing import Any

from rest_framework import serializers

from api.serializers.base import Serializer
from api.serializers.manage_alerts import TrendingAlertSerializer
from letters.models import Letter, Signature
from letters.services.letter_input import (
    body_errors,
    field_validator,
    note_errors,
    recipients_errors,
    slug_errors,
    summary_errors,
    title_errors,
)

MAX_BODY = 100_000
MAX_RECIPIENTS = 50
MAX_SPONSORS = 50


class RecipientSerializer(Serializer):
    name = serializers.CharField(max_length=200, allow_blank=True)
    role = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


# The letter's rules (letters.services.letter_input) run as field validators too, so that one answer names every
# field's problems; the services check them again before writing.
SLUG_RULES = [field_validator(slug_errors)]
TITLE_RULES = [field_validator(title_errors)]
SUMMARY_RULES = [field_validator(summary_errors)]
BODY_RULES = [field_validator(body_errors)]
RECIPIENTS_RULES = [field_validator(recipients_errors)]


class LetterCreateInputSerializer(Serializer):
    slug = serializers.CharField(
        max_length=100, validators=SLUG_RULES, help_text="The letter's public address, /letters/{slug}/."
    )
    title = serializers.CharField(max_length=300, validators=TITLE_RULES)
    summary = serializers.CharField(
        max_length=2000, required=False, allow_blank=True, default="", validators=SUMMARY_RULES
    )
    body = serializers.CharField(
        max_length=MAX_BODY, trim_whitespace=False, validators=BODY_RULES, help_text="Markdown."
    )
    recipients = serializers.ListField(
        child=RecipientSerializer(),
        required=False,
        default=list,
        max_length=MAX_RECIPIENTS,
        validators=RECIPIENTS_RULES,
    )
    sponsors = serializers.ListField(
        child=serializers.SlugField(max_length=200),
        required=False,
        default=list,
        max_length=MAX_SPONSORS,
        help_text="Slugs of reviewed organizations of the registry.",
    )


class LetterUpdateInputSerializer(Serializer):
    """Any subset of a draft's fields; the slug does not change."""

    title = serializers.CharField(max_length=300, required=False, validators=TITLE_RULES)
    summary = serializers.CharField(max_length=2000, required=False, allow_blank=True, validators=SUMMARY_RULES)
    body = serializers.CharField(
        max_length=MAX_BODY, required=False, trim_whitespace=False, validators=BODY_RULES, help_text="Markdown."
    )
    recipients = serializers.ListField(
        child=RecipientSerializer(), required=False, max_length=MAX_RECIPIENTS, validators=RECIPIENTS_RULES
    )
    sponsors = serializers.ListField(
        child=serializers.SlugField(max_length=200), required=False, max_length=MAX_SPONSORS
    )


def recipient_pairs(recipients: list[dict[str, str]]) -> list[tuple[str, str]]:
    return [(recipient["name"], recipient.get("role", "")) for recipient in recipients]


class LetterPreviewInputSerializer(Serializer):
    body = serializers.CharField(max_length=MAX_BODY, trim_whitespace=False, allow_blank=True, help_text="Markdown.")


class LetterPreviewSerializer(Serializer):
    html = serializers.CharField(help_text="Sanitized HTML, as the letter page shows it.")
    problems = serializers.ListField(
        child=serializers.CharField(), help_text="What saving this body would be refused for."
    )


class ScheduleInputSerializer(Serializer):
    publish_at = serializers.DateTimeField(help_text="When the letter opens to the public (in the future).")


class VersionInputSerializer(Serializer):
    body = serializers.CharField(
        max_length=MAX_BODY, trim_whitespace=False, validators=BODY_RULES, help_text="Markdown."
    )
    kind = serializers.ChoiceField(
        choices=["editorial", "material"],
        help_text="editorial: signers stay bound to the version they signed; material: they are asked to re-consent.",
    )
    note = serializers.CharField(
        max_length=2000, required=False, allow_blank=True, default="", validators=[field_validator(note_errors)]
    )


class ManagedVersionSerializer(Serializer):
    number = serializers.IntegerField()
    sha256 = serializers.CharField()
    published_at = serializers.DateTimeField()
    kind = serializers.CharField()
    note = serializers.CharField()


class ManagedLetterSerializer(Serializer):
    slug = serializers.CharField()
    title = serializers.CharField()
    summary = serializers.CharField()
    status = serializers.ChoiceField(choices=Letter.Status.choices)
    role = serializers.SerializerMethodField(help_text="Your role in this letter (null for staff who are not members).")
    version = serializers.SerializerMethodField()
    body = serializers.SerializerMethodField()
    recipients = serializers.SerializerMethodField()
    sponsors = serializers.SerializerMethodField()
    publish_at = serializers.DateTimeField(allow_null=True)
    opened_at = serializers.DateTimeField(allow_null=True)
    closed_at = serializers.DateTimeField(allow_null=True)

    def get_role(self, letter: Letter) -> str | None:
        return self.context.get("roles", {}).get(letter.pk)

    def get_version(self, letter: Letter) -> int | None:
        return letter.current_version.number if letter.current_version else None

    def get_body(self, letter: Letter) -> str:
        return letter.current_version.body if letter.current_version else ""

    def get_recipients(self, letter: Letter) -> list[dict[str, str]]:
        return [{"name": r.name, "role": r.role} for r in letter.recipients.all()]

    def get_sponsors(self, letter: Letter) -> list[str]:
        return [s.organization.slug for s in letter.sponsorships.select_related("organization")]


class ManagedLetterBriefSerializer(Serializer):
    slug = serializers.CharField()
    title = serializers.CharField()
    status = serializers.ChoiceField(choices=Letter.Status.choices)
    role = serializers.SerializerMethodField()

    def get_role(self, letter: Letter) -> str | None:
        return self.context.get("roles", {}).get(letter.pk)


class ManagedSignatureSerializer(Serializer):
    id = serializers.CharField(source="public_id")
    name = serializers.CharField()
    title = serializers.CharField()
    organization_name = serializers.CharField()
    email = serializers.SerializerMethodField(help_text="Private: null unless your role may export private columns.")
    status = serializers.ChoiceField(choices=Signature.Status.choices)
    verification_level = serializers.CharField()
    hold_reason = serializers.CharField()
    hold_reason_label = serializers.CharField(source="get_hold_reason_display")
    version = serializers.IntegerField(source="version.number")
    name_shown = serializers.BooleanField()
    signed_at = serializers.DateTimeField()
    confirmed_at = serializers.DateTimeField(allow_null=True)

    def get_email(self, signature: Signature) -> str | None:
        return signature.email if self.context.get("private") else None


class ExportRecordSerializer(Serializer):
    at = serializers.DateTimeField()
    by = serializers.SerializerMethodField()
    rows = serializers.SerializerMethodField()
    format = serializers.SerializerMethodField()

    def get_by(self, event: Any) -> str | None:
        return event.actor.get_username() if event.actor else None

    def get_rows(self, event: Any) -> int:
        return int(event.data.get("rows", 0))

    def get_format(self, event: Any) -> str:
        return str(event.data.get("format", ""))


class ManagedVersionCountSerializer(Serializer):
    number = serializers.IntegerField()
    kind = serializers.CharField()
    count = serializers.IntegerField(help_text="Visible signatures bound to this version.")
    current = serializers.BooleanField()
    awaiting_reconsent = serializers.BooleanField(help_text="Older than the latest material version.")


class CountsSerializer(Serializer):
    visible = serializers.IntegerField()
    held = serializers.IntegerField()
    verified = serializers.IntegerField()
    awaiting_reconsent = serializers.IntegerField()
    by_level = serializers.DictField(child=serializers.IntegerField(), help_text="Visible signatures per level.")
    by_version = ManagedVersionCountSerializer(many=True)
    by_status = serializers.DictField(child=serializers.IntegerField())


class DashboardSerializer(Serializer):
    letter = ManagedLetterBriefSerializer()
    counts = CountsSerializer()
    held = ManagedSignatureSerializer(many=True)
    recent = ManagedSignatureSerializer(many=True)
    exports = ExportRecordSerializer(many=True)
    alerts = TrendingAlertSerializer(many=True, help_text="Open and acknowledged trending alerts (moderation roles).")
    private = serializers.BooleanField(help_text="Whether emails are shown (owners, editors and staff).")
