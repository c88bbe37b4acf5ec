"""Forms for the public pages; they apply letters.typed_text and registry.emails, the one home of those rules."""

import datetime

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from letters.history import as_of_problem
from letters.typed_text import MAX_COMMENT_LENGTH, MAX_LENGTH, clean_comment, clean_line, too_long
from registry.emails import email_normalize


def guarded(limit: int) -> dict:
    """A size guard of twice the rule on the raw text (a decomposed "é" is two code points), named as the rule."""
    return {"max_length": limit * 2, "error_messages": {"max_length": too_long(limit)}}


class SignForm(forms.Form):
    name = forms.CharField(label="Full name", strip=False, **guarded(MAX_LENGTH))
    email = forms.CharField(
        label="Email",
        strip=False,
        help_text="Never shown publicly. We email you a link to confirm.",
        **guarded(254),
    )
    title = forms.CharField(label="Title or role", required=False, strip=False, **guarded(MAX_LENGTH))
    organization = forms.CharField(label="Organization", required=False, strip=False, **guarded(MAX_LENGTH))
    public = forms.BooleanField(
        label="Show my name publicly",
        required=False,
        initial=True,
        help_text="If unchecked, you are counted but listed as “Name withheld”.",
    )
    comment = forms.CharField(
        label="Comment for the organizers (optional, private)",
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        strip=False,
        **guarded(MAX_COMMENT_LENGTH),
    )
    # Honeypot: hidden from people by CSS and aria-hidden; bots fill it in.
    website = forms.CharField(label="Leave this field empty", required=False)

    def _rule(self, rule, value, **kwargs):
        try:
            return rule(value, **kwargs)
        except ValidationError as exc:
            raise forms.ValidationError(exc.messages) from exc

    def clean_name(self) -> str:
        return self._rule(clean_line, self.cleaned_data["name"], required=True)

    def clean_title(self) -> str:
        return self._rule(clean_line, self.cleaned_data["title"])

    def clean_organization(self) -> str:
        return self._rule(clean_line, self.cleaned_data["organization"])

    def clean_comment(self) -> str:
        return self._rule(clean_comment, self.cleaned_data["comment"])

    def clean_email(self) -> str:
        return self._rule(email_normalize, self.cleaned_data["email"])[0]

    def _post_clean(self) -> None:
        super()._post_clean()  # type: ignore[misc]  # Django's form hook, not in django-stubs
        for name in self.errors:
            if name in self.fields:
                widget = self.fields[name].widget
                described = [f"id_{name}_errors"] + ([f"id_{name}_helptext"] if self.fields[name].help_text else [])
                widget.attrs["aria-describedby"] = " ".join(described)

    @property
    def is_bot(self) -> bool:
        return bool(self.data.get("website"))


LEVEL_CHOICES = [
    ("", "Any verification"),
    ("email", "Email confirmed"),
    ("domain", "Organization domain"),
    ("manual", "Manually verified"),
    ("invited", "Invited"),
    ("vouched", "Vouched for by organizers"),
]


class UTCDateTimeField(forms.DateTimeField):
    """An instant in UTC for a datetime-local input: a value without a zone (what the input submits) is UTC whatever
    TIME_ZONE says, one with a zone (a shared link's `Z` or `+02:00`) is converted; the input is given the UTC value
    without a zone, the only form it can show, with seconds when they are not zero."""

    def to_python(self, value: object) -> datetime.datetime | None:
        with timezone.override(datetime.UTC):
            result = super().to_python(value)  # type: ignore[arg-type]  # Django accepts any value here
        try:
            return result.astimezone(datetime.UTC) if result else None
        except OverflowError as exc:  # 0001-01-01T00:00+01:00 is before year 1 in UTC
            raise ValidationError("Datetime value out of range.", code="overflow") from exc

    def prepare_value(self, value: object) -> object:
        if isinstance(value, str):
            try:
                value = self.to_python(value)
            except ValidationError:
                return value
        if isinstance(value, datetime.datetime):
            if timezone.is_aware(value):
                value = value.astimezone(datetime.UTC).replace(tzinfo=None)
            return value.strftime("%Y-%m-%dT%H:%M:%S" if value.second else "%Y-%m-%dT%H:%M")
        return value


class SignerFilterForm(forms.Form):
    """GET filters of the letter page; invalid values are shown as errors, never a 500."""

    q = forms.CharField(label="Search names, titles, organizations", required=False, max_length=200)
    organization = forms.SlugField(label="Organization", required=False, max_length=200)
    level = forms.ChoiceField(label="Verification", required=False, choices=LEVEL_CHOICES)
    as_of = UTCDateTimeField(
        label="As of (UTC)",
        required=False,
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local", "step": "1"}),
    )
    after = forms.RegexField(regex=r"^\d+$", required=False, widget=forms.HiddenInput)

    def clean_as_of(self) -> datetime.datetime | None:
        as_of = self.cleaned_data.get("as_of")
        if as_of is not None and (problem := as_of_problem(as_of)):
            raise ValidationError(problem, code="future")
        return as_of

    def _post_clean(self) -> None:
        super()._post_clean()  # type: ignore[misc]  # Django's form hook, not in django-stubs
        for name in self.errors:
            if name in self.fields:
                self.fields[name].widget.attrs["aria-describedby"] = f"id_{name}_errors"
                self.fields[name].widget.attrs["aria-invalid"] = "true"
