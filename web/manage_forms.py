"""Forms of the organizers' pages (/manage/). They parse what a person types (recipients one per line, sponsors by
slug); the rules of a letter are letters' and come back as field errors from the services (`errors_onto`)."""

from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from letters.models import Letter, VerificationRecord
from letters.services.letter_input import (
    body_errors,
    field_validator,
    recipients_errors,
    slug_errors,
    summary_errors,
    title_errors,
)

BODY_MAX = 100_000


def errors_onto(form: forms.Form, exc: ValidationError) -> None:
    """A service's field errors shown on the form's fields (or above it, for fields the form does not have)."""
    if hasattr(exc, "error_dict"):
        for field, messages in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, messages)
    else:
        form.add_error(None, exc.messages)


class LetterForm(forms.Form):
    slug = forms.CharField(
        label="Address (slug)",
        max_length=100,
        validators=[field_validator(slug_errors)],
        help_text="The letter's public address, /letters/<slug>/: lowercase letters, digits and hyphens.",
    )
    title = forms.CharField(label="Title", max_length=300, validators=[field_validator(title_errors)])
    summary = forms.CharField(
        label="Summary",
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
        required=False,
        validators=[field_validator(summary_errors)],
    )
    body = forms.CharField(
        label="Text (Markdown)",
        widget=forms.Textarea(attrs={"rows": 16}),
        max_length=BODY_MAX,
        strip=False,
        validators=[field_validator(body_errors)],
        help_text="Markdown: **bold**, *italic*, > quotes, lists, ## headings, [links](https://…). No raw HTML.",
    )
    recipients = forms.CharField(
        label="Recipients",
        widget=forms.Textarea(attrs={"rows": 4}),
        required=False,
        help_text="One per line: Name | Role (the role is optional).",
    )
    sponsors = forms.CharField(
        label="Sponsoring organizations",
        required=False,
        help_text="Slugs of organizations in the registry, separated by commas (e.g. hackerone, bugcrowd).",
    )

    def clean_recipients(self) -> list[tuple[str, str]]:
        pairs = []
        for line in self.cleaned_data["recipients"].splitlines():
            if line.strip():
                name, _, role = line.partition("|")
                pairs.append((name.strip(), role.strip()))
        field_validator(recipients_errors)(pairs)
        return pairs

    def clean_sponsors(self) -> list[str]:
        return [slug.strip() for slug in self.cleaned_data["sponsors"].replace("\n", ",").split(",") if slug.strip()]


class DraftForm(LetterForm):
    """A draft's fields; the slug stays."""

    slug = None  # type: ignore[assignment]

    @staticmethod
    def initial_of(letter: Letter) -> dict[str, Any]:
        return {
            "title": letter.title,
            "summary": letter.summary,
            "body": letter.current_version.body if letter.current_version else "",
            "recipients": "\n".join(
                f"{r.name} | {r.role}" if r.role else r.name for r in letter.recipients.order_by("position")
            ),
            "sponsors": ", ".join(
                letter.sponsorships.order_by("position").values_list("organization__slug", flat=True)
            ),
        }


class ScheduleForm(forms.Form):
    publish_at = forms.DateTimeField(
        label="Publish at (UTC)",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"],
        help_text="Until then the letter is hidden from the public; members and verification work as usual.",
    )


class VersionForm(forms.Form):
    body = forms.CharField(
        label="New text (Markdown)", widget=forms.Textarea(attrs={"rows": 16}), max_length=BODY_MAX, strip=False
    )
    kind = forms.ChoiceField(
        label="What kind of change is this?",
        widget=forms.RadioSelect,
        choices=[
            ("editorial", "Editorial (a typo, wording): signers stay bound to the version they signed"),
            ("material", "Material (the meaning changes): signers of earlier versions are emailed to re-consent"),
        ],
    )
    note = forms.CharField(label="What changed (public)", max_length=500, required=False, widget=forms.TextInput())


class VerifyForm(forms.Form):
    method = forms.ChoiceField(
        label="How was the identity checked?",
        widget=forms.RadioSelect,
        choices=[
            (VerificationRecord.Method.MANUAL, "Checked by us, with evidence"),
            (VerificationRecord.Method.INVITED, "Invited by the organizers"),
        ],
        initial=VerificationRecord.Method.MANUAL,
    )
    evidence = forms.CharField(label="Evidence", widget=forms.Textarea(attrs={"rows": 2}), max_length=2000)
    evidence_url = forms.URLField(label="Evidence link", required=False, max_length=500, assume_scheme="https")


class RejectForm(forms.Form):
    reason = forms.CharField(label="Reason (private)", widget=forms.Textarea(attrs={"rows": 2}), max_length=2000)
    public_reason = forms.CharField(label="Public reason (optional)", max_length=200, required=False)
