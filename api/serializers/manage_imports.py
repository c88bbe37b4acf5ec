"""Organizers' imports: input and output serializers (the rules live in importing/)."""

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from api.serializers.base import Serializer
from api.serializers.signing import EmailText, LineText
from importing.mapping import FIELDS
from importing.models import SignatureImport, SignerInvitation
from importing.selectors import import_outcomes, import_progress


class ImportUploadInputSerializer(Serializer):
    file = serializers.FileField(help_text="CSV (any delimiter, encoding, with or without BOM) or XLSX.")
    mapping = serializers.JSONField(
        required=False, help_text='Optional: {field: column index}, e.g. {"name": 0, "email": 1}.'
    )


class ImportMappingInputSerializer(Serializer):
    mapping = serializers.DictField(
        child=serializers.IntegerField(min_value=0), help_text=f"{{field: column index}}; fields: {', '.join(FIELDS)}."
    )


class ImportStartInputSerializer(Serializer):
    mode = serializers.ChoiceField(choices=SignatureImport.Mode.choices)


class ImportProgressSerializer(Serializer):
    rows_total = serializers.IntegerField()
    rows_done = serializers.IntegerField()
    percent = serializers.IntegerField()
    rows_per_second = serializers.FloatField(allow_null=True)
    seconds_left = serializers.IntegerField(allow_null=True)


class ImportOutcomesSerializer(Serializer):
    created = serializers.IntegerField(help_text="Signatures the import added.")
    held = serializers.IntegerField(help_text="Of those, held for review (a protected name or mixed scripts).")
    already_signed = serializers.IntegerField(help_text="Rows whose address had signed, or came earlier in the file.")
    invited = serializers.IntegerField(help_text="Invitations sent (invite mode).")
    not_invited = serializers.IntegerField(help_text="Not invited: declined an invitation before, or one is open.")
    invalid = serializers.IntegerField(help_text="Rows the checks refused.")


class ImportSerializer(serializers.ModelSerializer):
    id = serializers.CharField(source="public_id")
    created_by = serializers.SerializerMethodField()
    progress = serializers.SerializerMethodField()
    outcomes = serializers.SerializerMethodField(help_text="What became of the rows; null until the job has run.")

    class Meta:
        model = SignatureImport
        fields = [
            "id",
            "filename",
            "sha256",
            "size_bytes",
            "mapping",
            "mode",
            "status",
            "summary",
            "rows_total",
            "rows_done",
            "rows_created",
            "rows_skipped",
            "progress",
            "outcomes",
            "error",
            "created_by",
            "created_at",
            "started_at",
            "finished_at",
            "undone_at",
        ]

    def get_created_by(self, obj: SignatureImport) -> str | None:
        return obj.created_by.get_username() if obj.created_by else None

    def get_progress(self, obj: SignatureImport) -> dict[str, Any]:
        return ImportProgressSerializer(import_progress(obj)).data

    @extend_schema_field(ImportOutcomesSerializer(allow_null=True))
    def get_outcomes(self, obj: SignatureImport) -> dict[str, Any] | None:
        outcomes = import_outcomes(obj)
        return None if outcomes is None else ImportOutcomesSerializer(outcomes).data


class ImportRowSerializer(Serializer):
    row = serializers.IntegerField(source="number")
    status = serializers.CharField()
    values = serializers.DictField(child=serializers.CharField(allow_blank=True))
    # A declared field, taken off the class by the serializer metaclass: it does not shadow Serializer.errors.
    errors = serializers.DictField(child=serializers.ListField(child=serializers.CharField()))  # type: ignore[assignment]
    organization_match = serializers.CharField()
    organization_slug = serializers.CharField()
    duplicate_of_row = serializers.IntegerField(allow_null=True)
    possible_people = serializers.ListField(child=serializers.DictField(child=serializers.CharField()))
    invitation = serializers.ChoiceField(
        choices=["", "declined", "open"],
        help_text="declined: the address declined an invitation to this letter (never invited again); open: it has "
        "one running. An invite import skips both.",
    )
    explanation = serializers.CharField()


class ReadAsSerializer(Serializer):
    kind = serializers.ChoiceField(choices=["csv", "xlsx"])
    encoding = serializers.CharField(help_text="The text encoding a CSV was read in (detected); empty for XLSX.")
    delimiter = serializers.CharField(help_text="A CSV's delimiter (detected, or Excel's sep= line); empty for XLSX.")


class ImportPreviewSerializer(Serializer):
    signature_import = ImportSerializer(source="signature_import_obj")
    headers = serializers.ListField(child=serializers.CharField())
    read_as = ReadAsSerializer(
        allow_null=True, help_text="How the stored file was read (null once the import no longer keeps it)."
    )
    mapping_errors = serializers.DictField(child=serializers.ListField(child=serializers.CharField()))
    rows = ImportRowSerializer(many=True)
    rows_shown = serializers.IntegerField()
    people_checked = serializers.BooleanField(
        allow_null=True,
        help_text="Whether rows were compared with the registry's people (files up to IMPORT_PREVIEW_PEOPLE_ROWS).",
    )


class SignerInvitationInputSerializer(Serializer):
    name = LineText(trim_whitespace=False)
    email = EmailText(trim_whitespace=False)
    title = LineText(required=False, allow_blank=True, trim_whitespace=False)
    organization = LineText(required=False, allow_blank=True, trim_whitespace=False)


class SignerInvitationSerializer(Serializer):
    id = serializers.CharField(source="public_id")
    name = serializers.CharField()
    email = serializers.CharField()
    title = serializers.CharField()
    organization = serializers.CharField(source="organization_name")
    state = serializers.ChoiceField(choices=SignerInvitation.State.choices)
    reminders_sent = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField()
    opened_at = serializers.DateTimeField(allow_null=True)
    signed_at = serializers.DateTimeField(allow_null=True)
    import_id = serializers.CharField(source="signature_import.public_id", allow_null=True, default=None)


class SignerInvitationListSerializer(Serializer):
    counts = serializers.DictField(child=serializers.IntegerField())
    invitations = SignerInvitationSerializer(many=True)
