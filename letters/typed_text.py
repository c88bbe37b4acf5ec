"""Rules for text that signers type: names, titles, organizations, comments."""

import re
import unicodedata
from collections.abc import Callable

from django.core.exceptions import ValidationError

from registry.emails import email_normalize

MAX_LENGTH = 200
MAX_COMMENT_LENGTH = 2000
# Schemes, "www." and domain-plus-path are links; a bare "Booking.com" is a company name and stays allowed.
_URL = re.compile(r"([a-z][a-z0-9+.-]*://|\bwww\.|\b[\w-]+\.[a-z]{2,}/)", re.IGNORECASE)
_FORMULA_START = ("=", "+", "-", "@", "\t")
# Runs of whitespace become one space; a lone space already is one, so it is left unmatched and a clean line comes
# back as the same string (an import keeps 100k of them).
_SPACING = re.compile(r"\s{2,}|[^\S ]")
# Marks on one letter: Vietnamese stacks two (ệ), some scripts three; "zalgo" text dozens.
MAX_STACKED_MARKS = 4
# Bidi overrides/isolates; they are format characters (Cf) too, named here so the message can be specific.
_BIDI = set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")


def _check_characters(value: str, *, allow_newlines: bool, allow_tabs: bool = False) -> None:
    if value.isascii() and value.isprintable():  # no control, format, bidi or unassigned character: most text
        return
    stacked = 0
    for char in value:
        stacked = stacked + 1 if unicodedata.combining(char) else 0
        if stacked > MAX_STACKED_MARKS:
            raise ValidationError("Too many accents on one letter.", code="stacked")
        if char in _BIDI:
            raise ValidationError("Bidirectional control characters are not allowed.", code="bidi")
        category = unicodedata.category(char)
        if (char in "\n\r" and allow_newlines) or (char == "\t" and allow_tabs):
            continue
        if category == "Cc" or char == "\x00":
            raise ValidationError("Control characters are not allowed.", code="control")
        if category == "Cf":
            raise ValidationError(
                "Invisible formatting characters (such as zero-width spaces) are not allowed.", code="format"
            )
        if category in ("Cs", "Co", "Cn"):
            raise ValidationError("Unassigned or private-use characters are not allowed.", code="unassigned")


def too_long(limit: int) -> str:
    """The message of a text over `limit` characters, also for the size guards of forms and serializers (which allow
    twice the rule on the raw text, a decomposed "é" being two code points): they name the rule, not the guard."""
    return f"Ensure this field has no more than {limit} characters."


def character_problems(value: str, *, newlines: bool, tabs: bool = False) -> list[str]:
    """What is wrong with the characters of `value` by the rules of signers' text (control, bidi, invisible
    formatting, unassigned characters), as messages; for organizers' text too (letters.services.letter_input)."""
    try:
        _check_characters(value, allow_newlines=newlines, allow_tabs=tabs)
    except ValidationError as exc:
        return list(exc.messages)
    return []


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
        raise ValidationError(too_long(max_length), code="max_length")
    if text.startswith(_FORMULA_START):
        raise ValidationError("Must not start with =, +, -, @ or a tab.", code="formula")
    if _URL.search(text):
        raise ValidationError("Links are not allowed here.", code="url")
    return _SPACING.sub(" ", text)


def clean_comment(value: str | None) -> str:
    """A free-text comment (private to organizers): same character rules, newlines allowed, longer limit."""
    text = unicodedata.normalize("NFKC", value or "").strip()
    if not text:
        return ""
    _check_characters(text, allow_newlines=True)
    if len(text) > MAX_COMMENT_LENGTH:
        raise ValidationError(too_long(MAX_COMMENT_LENGTH), code="max_length")
    return text


SIGNER_FIELDS = ("name", "email", "title", "organization", "comment")


def signer_input_clean(values: dict[str, str | None]) -> tuple[dict[str, str], dict[str, list[str]]]:
    """Apply the rules of public signing to one signer's fields at once (an import row, an invitation).

    Returns the cleaned fields and the errors by field; a field with an error is left out of the cleaned ones.
    Name and email are required; the email is normalized by registry.emails (the one home of that rule).
    """
    rules: dict[str, Callable[[str | None], str]] = {
        "name": lambda v: clean_line(v, required=True),
        "title": clean_line,
        "organization": clean_line,
        "comment": clean_comment,
    }
    cleaned: dict[str, str] = {}
    errors: dict[str, list[str]] = {}
    for field in SIGNER_FIELDS:
        value = values.get(field)
        try:
            if field == "email":
                if not (value or "").strip():
                    raise ValidationError("This field is required.", code="required")
                cleaned[field] = email_normalize(value or "")[0]
            else:
                cleaned[field] = rules[field](value)
        except ValidationError as exc:
            errors[field] = list(exc.messages)
    return cleaned, errors
