"""Signing secrets: `whsec_` + base64 of 32 random bytes (Standard Webhooks), encrypted at rest with Fernet under
WEBHOOK_SECRETS_KEY (or a key derived from SECRET_KEY), shown to the owner once, when made or rotated."""

import base64
import hashlib
import secrets as random_source
from datetime import datetime

from cryptography.fernet import Fernet
from django.conf import settings

from webhooks.models import Endpoint, EndpointSecret

PREFIX = "whsec_"


def secret_new() -> str:
    return PREFIX + base64.b64encode(random_source.token_bytes(32)).decode()


def _fernet() -> Fernet:
    material = settings.WEBHOOK_SECRETS_KEY or f"webhook-secrets:{settings.SECRET_KEY}"
    return Fernet(base64.urlsafe_b64encode(hashlib.sha256(material.encode()).digest()))


def secret_encrypt(secret: str) -> str:
    return _fernet().encrypt(secret.encode()).decode()


def secret_decrypt(encrypted: str) -> str:
    return _fernet().decrypt(encrypted.encode()).decode()


def secret_store(*, endpoint: Endpoint, at: datetime) -> str:
    """A new secret for `endpoint`, stored encrypted; the only time it is returned in clear."""
    secret = secret_new()
    EndpointSecret.objects.create(endpoint=endpoint, encrypted=secret_encrypt(secret), created_at=at)
    return secret


def signing_secrets(*, endpoint_id: int, at: datetime) -> list[str]:
    """Every secret that signs now, newest first: the current one and, during a rotation's overlap, the old."""
    rows = EndpointSecret.objects.filter(endpoint_id=endpoint_id).order_by("-created_at", "-id")
    return [secret_decrypt(row.encrypted) for row in rows if row.expires_at is None or row.expires_at > at]
