"""Rules for text that signers type: names, titles, organizations, comments."""

import re
import unicodedata

from django.core.exceptions import ValidationError

MAX_LENGTH = 200
MAX_COMMENT_LENGTH = 2000
# Schemes, "www." and domain-plus-path are links; a bare "Booking.com" is a company name and stays allowed.
_URL = re.compile(r"([a-z][a-z0-9+.-]*://|\bwww\.|\b[\w-]+\.[a-z]{2,}/)", re.IGNORECASE)
_FORMULA_START = ("=", "+", "-", "@", "\t")
# Bidi overrides/isolates; they are format characters (Cf) too, named here so the message can be specific.
_BIDI = set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")


def _check_characters(value: str, *, allow_newlines: bool) -> None:
    for char in value:
        if char in _BIDI:
            raise ValidationError("Bidirectional control characters are not allowed.", code="bidi")
        category = unicodedata.category(char)
        if char in "\n\r" and allow_newlines:
            continue
        if category == "Cc" or char == "\x00":
            raise ValidationError("Control characters are not allowed.", code="control")
        if category == "Cf":
            raise ValidationError(
                "Invisible formatting characters (such as zero-width spaces) are not allowed.", code="format"
            )
        if category in ("Cs", "Co", "Cn"):
            raise ValidationError("Unassigned or private-use characters are not allowed.", code="unassigned")


def clean_line(value: str | None, *, required: bool = False, max_length: int = MAX_LENGTH) -> str:
    """NFKC-normalize and trim a one-line field, rejecting what could deceive readers or spreadsheets."""
    raw = value or ""
    if raw[:1] == "\t":
        raise ValidationError("Must not start with a tab.", code="formula")
    text = unicodedata.normalize("NFKC", raw).strip()
    if not text:
        if required:
            raise ValidationError("This field is required.", code="required")
        return ""
    _check_characters(text, allow_newlines=False)
    if len(text) > max_length:
        raise ValidationError(f"Ensure this field has no more than {max_length} characters.", code="max_length")
    if text.startswith(_FORMULA_START):
        raise ValidationError("Must not start with =, +, -, @ or a tab.", code="formula")
    if _URL.search(text):
        raise ValidationError("Links are not allowed here.", code="url")
    return re.sub(r"\s+", " ", text)


def clean_comment(value: str | None) -> str:
    """A free-text comment (private to organizers): same character rules, newlines allowed, longer limit."""
    text = unicodedata.normalize("NFKC", value or "").strip()
    if not text:
        return ""
    _check_characters(text, allow_newlines=True)
    if len(text) > MAX_COMMENT_LENGTH:
        raise ValidationError(f"Ensure this field has no more than {MAX_COMMENT_LENGTH} characters.", code="max_length")
    return text
