"""Email address validation and the `email_key` policy that decides "the same address".

Policy: the address must be syntactically valid (no DNS lookups); the key is the NFKC-normalized address, lowercased,
with the domain in IDNA (ASCII) form; for gmail.com and googlemail.com, dots and "+tags" in the local part are dropped
and the domain becomes gmail.com, because Google delivers all those spellings to one mailbox. Other providers' tags
are kept: their semantics differ and a false merge would hide a real second signer.
"""

import functools
import unicodedata

import idna
from django.core.exceptions import ValidationError
from email_validator import EmailNotValidError, validate_email

GMAIL_DOMAINS = {"gmail.com", "googlemail.com"}
INVALID_EMAIL = "Enter a valid email address."


@functools.lru_cache(maxsize=64)  # a sign request validates the address, then the service derives its key
def email_normalize(raw: str) -> tuple[str, str]:
    """Return (email as given but normalized, email_key); raise ValidationError when invalid."""
    text = unicodedata.normalize("NFKC", (raw or "").strip())
    if not text or len(text) > 254:
        raise ValidationError(INVALID_EMAIL, code="invalid")
    try:
        result = validate_email(text, check_deliverability=False)
    except EmailNotValidError as exc:
        raise ValidationError(INVALID_EMAIL, code="invalid") from exc
    local = result.local_part
    domain = result.ascii_domain.lower()
    key_local = local.lower()
    if domain in GMAIL_DOMAINS:
        key_local = key_local.split("+", 1)[0].replace(".", "")
        domain = "gmail.com"
    return result.normalized, f"{key_local}@{domain}"


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
