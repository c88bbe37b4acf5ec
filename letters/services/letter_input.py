"""What an organizer may type into a letter: slug, title, summary, body, recipients, sponsors, version notes.

Every check returns field errors ({field: [messages]}) and `letter_input_raise` raises them as one
django.core.exceptions.ValidationError, before any write.
"""

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from django.core.exceptions import ValidationError

from letters.markdown import markdown_problems
from letters.models import Letter, LetterRecipient, LetterVersion
from letters.typed_text import character_problems
from registry.models import Organization

SLUG_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
SLUG_MIN, SLUG_MAX = 3, 100
# Words that name (or may one day name) a page or an API path beside /letters/<slug>/, or that read as official.
RESERVED_SLUGS = frozenset(
    {
        "about", "accounts", "admin", "api", "assets", "auth", "confirm", "contact", "dashboard", "diff", "docs",
        "imports", "invalidations", "invitations", "log", "receipts", "signer-invitations",
        "edit", "embed", "export", "exports", "feed", "feeds", "health", "healthz", "help", "letter", "letters",
        "login", "logout", "manage", "media", "metrics", "new", "official", "organizations", "people", "preview",
        "privacy", "readyz", "reconsent", "redoc", "register", "schema", "search", "settings", "sign", "signup",
        "signatures", "static", "staff", "stats", "terms", "undersigned", "v", "versions", "withdraw",
    }
)  # fmt: skip
TITLE_MAX = Letter._meta.get_field("title").max_length or 300
SUMMARY_MAX = 2000
BODY_MAX = 100_000
NOTE_MAX = LetterVersion._meta.get_field("note").max_length or 500
RECIPIENT_NAME_MAX = LetterRecipient._meta.get_field("name").max_length or 200
RECIPIENT_ROLE_MAX = LetterRecipient._meta.get_field("role").max_length or 200
RECIPIENTS_MAX = 50
SPONSORS_MAX = 50

Errors = dict[str, list[str]]


def slug_errors(slug: Any, *, taken: bool = True) -> list[str]:
    """A letter's address: lowercase letters, digits and single hyphens; not reserved; not taken (`taken` checks)."""
    if not isinstance(slug, str) or not slug:
        return ["A slug is required."]
    if not SLUG_MIN <= len(slug) <= SLUG_MAX:
        return [f"Between {SLUG_MIN} and {SLUG_MAX} characters."]
    if not SLUG_PATTERN.match(slug):
        return ["Lowercase letters, digits and single hyphens only, starting and ending with a letter or digit."]
    if slug in RESERVED_SLUGS:
        return [f"“{slug}” is reserved; choose another slug."]
    if taken and Letter.objects.filter(slug=slug).exists():
        return ["A letter with this slug already exists."]
    return []


def title_errors(title: Any) -> list[str]:
    """One line (it is an email's subject too), with the characters signers may type."""
    if not isinstance(title, str) or not title.strip():
        return ["A title is required."]
    if len(title) > TITLE_MAX:
        return [f"At most {TITLE_MAX} characters."]
    return character_problems(title, newlines=False)


def summary_errors(summary: Any) -> list[str]:
    if not isinstance(summary, str):
        return ["Text expected."]
    if len(summary) > SUMMARY_MAX:
        return [f"At most {SUMMARY_MAX} characters."]
    return character_problems(summary, newlines=True)


def body_errors(body: Any) -> list[str]:
    """The Markdown text: required, bounded, and free of raw HTML that runs or embeds (letters.markdown)."""
    if not isinstance(body, str) or not body.strip():
        return ["The letter's text is required."]
    if len(body) > BODY_MAX:
        return [f"At most {BODY_MAX} characters."]
    if "\x00" in body:
        return ["The text contains a NUL character."]
    return character_problems(body, newlines=True, tabs=True) or markdown_problems(body)


def note_errors(note: Any) -> list[str]:
    if not isinstance(note, str):
        return ["Text expected."]
    if len(note) > NOTE_MAX:
        return [f"At most {NOTE_MAX} characters."]
    return character_problems(note, newlines=True)


def recipients_clean(recipients: Iterable[Any]) -> tuple[list[tuple[str, str]], list[str]]:
    """(name, role) pairs from pairs or mappings with "name" and "role", stripped; and what is wrong with them."""
    cleaned: list[tuple[str, str]] = []
    errors: list[str] = []
    items = list(recipients)
    if len(items) > RECIPIENTS_MAX:
        return [], [f"At most {RECIPIENTS_MAX} recipients."]
    for position, item in enumerate(items, start=1):
        if isinstance(item, Mapping):
            name, role = item.get("name", ""), item.get("role", "")
        elif isinstance(item, Sequence) and not isinstance(item, str) and len(item) in (1, 2):
            name, role = item[0], item[1] if len(item) == 2 else ""
        else:
            errors.append(f"Recipient {position}: a name and an optional role expected.")
            continue
        name = name.strip() if isinstance(name, str) else ""
        role = role.strip() if isinstance(role, str) else ""
        if not name:
            errors.append(f"Recipient {position} needs a name.")
        elif len(name) > RECIPIENT_NAME_MAX or len(role) > RECIPIENT_ROLE_MAX:
            errors.append(f"Recipient {position}: name and role are at most {RECIPIENT_NAME_MAX} characters each.")
        elif problems := character_problems(name + role, newlines=False):
            errors.append(f"Recipient {position}: {problems[0]}")
        cleaned.append((name, role))
    return cleaned, errors


def recipients_errors(recipients: Iterable[Any]) -> list[str]:
    return recipients_clean(recipients)[1]


def sponsors_errors(sponsors: Sequence[Any]) -> list[str]:
    if len(sponsors) > SPONSORS_MAX:
        return [f"At most {SPONSORS_MAX} sponsors."]
    if any(not isinstance(o, Organization) or o.pk is None for o in sponsors):
        return ["Sponsors must be organizations of the registry."]
    if len({o.pk for o in sponsors}) != len(sponsors):
        return ["An organization is listed twice."]
    return []


def field_validator(check: Callable[[Any], list[str]]) -> Callable[[Any], None]:
    """One of these checks as a form's or a serializer's field validator, so that a form reports every field's
    problems at once rather than the parser's first and the letter's rules after; the services check again."""

    def validate(value: Any) -> None:
        if problems := check(value):
            raise ValidationError(problems)

    return validate


def letter_input_raise(errors: Errors) -> None:
    """Raise every non-empty field error at once."""
    found = {field: messages for field, messages in errors.items() if messages}
    if found:
        raise ValidationError(found)
