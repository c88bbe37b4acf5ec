"""Idempotency-Key support: a replay gets the first response; the same key with another body is refused."""

import hashlib
import json
from collections.abc import Callable
from typing import Any

from django.db import IntegrityError, transaction

from letters.models import IdempotencyRecord


class IdempotencyConflict(Exception):
    message = "This Idempotency-Key was already used with a different request body."


def request_fingerprint(payload: Any) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


def idempotent_call(*, scope: str, key: str, payload: Any, call: Callable[[], tuple[int, dict]]) -> tuple[int, dict]:
    """Run `call` once per (scope, key); later calls with the same payload get the stored (status, body)."""
    fingerprint = request_fingerprint(payload)
    stored = IdempotencyRecord.objects.filter(scope=scope, key=key).first()
    if stored is None:
        try:
            with transaction.atomic():
                status, body = call()
                IdempotencyRecord.objects.create(
                    scope=scope, key=key, request_hash=fingerprint, response_status=status, response_body=body
                )
                return status, body
        except IntegrityError:
            stored = IdempotencyRecord.objects.filter(scope=scope, key=key).first()
            if stored is None:
                raise
    if stored.request_hash != fingerprint:
        raise IdempotencyConflict
    return stored.response_status, stored.response_body
