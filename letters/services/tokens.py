"""Single-purpose tokens for email links: 256 random bits, stored only as a SHA-256 hash."""

import hashlib
import hmac
import secrets
from datetime import datetime

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from letters.models import Signature, SignatureToken
from letters.services.locking import signature_lock


class TokenInvalid(Exception):
    """Unknown, expired, used, or for another purpose. One message for all, so nothing is revealed."""

    message = "This link is invalid or has expired."


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def token_issue(*, signature: Signature, purposes: list[str], at: datetime | None = None) -> dict[str, str]:
    """Create one token per purpose (in one INSERT) and return them; only their hashes are kept."""
    at = at or timezone.now()
    tokens = {purpose: secrets.token_urlsafe(32) for purpose in purposes}
    SignatureToken.objects.bulk_create(
        SignatureToken(
            signature=signature,
            purpose=purpose,
            token_hash=_hash(token),
            expires_at=at + settings.SIGNATURE_CONFIRM_TOKEN_TTL if purpose == SignatureToken.Purpose.CONFIRM else None,
        )
        for purpose, token in tokens.items()
    )
    return tokens


def _valid(*, digest: str, purpose: str, at: datetime) -> SignatureToken | None:
    found = (
        SignatureToken.objects.filter(token_hash=digest, purpose=purpose, used_at=None)
        .filter(Q(expires_at=None) | Q(expires_at__gt=at))
        .first()
    )
    # The lookup is by hash, so timing reveals nothing about the token; compare again in constant time anyway.
    if found is None or not hmac.compare_digest(found.token_hash, digest):
        return None
    return found


def token_peek(*, token: str, purpose: str, at: datetime | None = None) -> Signature | None:
    """The signature a valid, unused token is for (with its letter and version), without using the token: a page
    shows what a POST would do. None for anything invalid."""
    if not isinstance(token, str) or not 20 <= len(token) <= 128:
        return None
    found = _valid(digest=_hash(token), purpose=purpose, at=at or timezone.now())
    if found is None:
        return None
    return Signature.objects.select_related("letter", "version").filter(pk=found.signature_id).first()


def token_use(*, token: str, purpose: str, at: datetime | None = None) -> SignatureToken:
    """Mark a valid token used and return it, its signature row locked. Call inside a transaction.

    The signature is locked before the token is marked (letters.services.locking): a confirmation and a withdrawal
    of one signature then queue on the signature, and whichever comes second finds its token spent or its
    signature changed, instead of each holding a token the other waits for.
    """
    at = at or timezone.now()
    if not isinstance(token, str) or not 20 <= len(token) <= 128:
        raise TokenInvalid
    found = _valid(digest=_hash(token), purpose=purpose, at=at)
    if found is None:
        raise TokenInvalid
    found.signature = signature_lock(pk=found.signature_id)  # the caller reads it locked, without another query
    if not SignatureToken.objects.filter(pk=found.pk, used_at=None).update(used_at=at):
        raise TokenInvalid  # spent meanwhile: by the other link of the same email, or by a withdrawal
    found.used_at = at
    return found
