"""Email address validation and the `email_key` policy that decides "the same address".

Policy: the address must be syntactically valid (no DNS lookups); the key is the NFKC-normalized address, lowercased,
with the domain in IDNA (ASCII) form; for gmail.com and googlemail.com, dots and "+tags" in the local part are dropped
and the domain becomes gmail.com, because Google delivers all those spellings to one mailbox. Other providers' tags
are kept: their semantics differ and a false merge would hide a real second signer.

Validity and the normalized form are email_validator's. Most addresses are plain ASCII (`name.tag@host.example`);
for those the library keeps the local part as typed (lowercased when it is one of RFC 2142's mailbox names), says
the same of the domain for every address at it, and checks the lengths. So such an address is split here, its local
part matched with the library's own dot-atom pattern, its domain validated by the library once per domain (an import
of 100k rows has a few hundred) and the lengths checked as the library checks them; any other address goes through
the library whole. tests/registry/test_emails.py compares both paths.
"""

import functools
import re
import unicodedata

import idna
from django.core.exceptions import ValidationError
from email_validator import EmailNotValidError, validate_email
from email_validator.rfc_constants import CASE_INSENSITIVE_MAILBOX_NAMES, DOT_ATOM_TEXT, EMAIL_MAX_LENGTH

GMAIL_DOMAINS = {"gmail.com", "googlemail.com"}
INVALID_EMAIL = "Enter a valid email address."
_ASCII_HOST = re.compile(r"[A-Za-z0-9.-]+\Z")
_MAILBOX_NAMES = frozenset(CASE_INSENSITIVE_MAILBOX_NAMES)


def _invalid() -> ValidationError:
    return ValidationError(INVALID_EMAIL, code="invalid")


LOCAL_PART_MAX_LENGTH = 64


@functools.lru_cache(maxsize=64)  # a sign request validates the address, then the service derives its key
def email_normalize(raw: str) -> tuple[str, str]:
    """Return (email as given but normalized, email_key); raise ValidationError when invalid."""
    text = unicodedata.normalize("NFKC", (raw or "").strip())
    if not text or len(text) > 254:
        raise _invalid()
    parts = email_parts_ascii(text)
    local, domain, ascii_domain = parts if parts is not None else email_parts_validated(text)
    if len(local.encode()) > LOCAL_PART_MAX_LENGTH:  # RFC 5321 4.5.3.1.1; email_validator lets it through
        raise _invalid()
    key_domain = ascii_domain.lower()
    key_local = local.lower()
    if key_domain in GMAIL_DOMAINS:
        key_local = key_local.split("+", 1)[0].replace(".", "")
        key_domain = "gmail.com"
    email, key = f"{local}@{domain}", f"{key_local}@{key_domain}"
    # Equal strings given back as one object: an import's upload holds 100k addresses and keys.
    email = text if email == text else email
    return email, email if key == email else key


def email_parts_validated(text: str) -> tuple[str, str, str]:
    """(local part, domain, ASCII domain) of `text` as email_validator normalizes them; ValidationError if invalid."""
    try:
        result = validate_email(text, check_deliverability=False)
    except EmailNotValidError as exc:
        raise _invalid() from exc
    return result.local_part, result.domain, result.ascii_domain


def email_parts_ascii(text: str) -> tuple[str, str, str] | None:
    """`email_parts_validated(text)` for a plain ASCII address (dot-atom local part, hostname characters after the
    one @-sign), without email_validator's character-by-character parse; None for any other text."""
    local, _, host = text.partition("@")
    if not (text.isascii() and DOT_ATOM_TEXT.match(local) and _ASCII_HOST.match(host)):
        return None
    validated = _domain_validated(host)
    if validated is None:
        raise _invalid()
    domain, ascii_domain = validated
    if local.lower() in _MAILBOX_NAMES:
        local = local.lower()
    for address in (f"{local}@{domain}", f"{local}@{ascii_domain}"):  # the input's length is checked by the caller
        if len(address.encode()) > EMAIL_MAX_LENGTH:
            raise _invalid()
    return local, domain, ascii_domain


@functools.lru_cache(maxsize=4096)
def _domain_validated(host: str) -> tuple[str, str] | None:
    """(domain, ASCII domain) as email_validator gives them for any address at `host`, None if it refuses them. Its
    domain checks do not depend on the local part, and the shortest one ("a") fails the length checks only where
    every local part would."""
    try:
        _, domain, ascii_domain = email_parts_validated(f"a@{host}")
    except ValidationError:
        return None
    return domain, ascii_domain


def domain_normalize(raw: str) -> str:
    """A domain as email keys spell it: IDNA 2008 with UTS 46 mapping (the `idna` library, as email_validator
    uses), lowercase ASCII, without a trailing dot. "straße.de" is xn--strae-oqa.de, never strasse.de.

    Raises ValidationError for text that is not a domain."""
    text = unicodedata.normalize("NFKC", (raw or "").strip()).rstrip(".")
    try:
        return idna.encode(text, uts46=True).decode("ascii").lower()
    except idna.IDNAError as exc:
        raise ValidationError("Enter a valid domain.", code="invalid") from exc


def email_key(raw: str) -> str:
    return email_normalize(raw)[1]
