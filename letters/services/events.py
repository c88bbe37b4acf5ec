"""The one way a signature's state change is recorded: a SignatureEvent plus an AuditEvent."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.utils import timezone

from letters.models import Signature, SignatureEvent
from registry.audit import audit_log


@dataclass(frozen=True)
class SignatureState:
    visible: bool
    level: str


def signature_state(signature: Signature) -> SignatureState:
    """Snapshot taken before a change, passed back to `signature_event_record` after it."""
    return SignatureState(visible=signature.is_visible, level=signature.verification_level)


def signature_event_record(
    *,
    signature: Signature,
    kind: str,
    before: SignatureState,
    actor: Any = None,
    at: datetime | None = None,
    data: dict[str, Any] | None = None,
    audit_data: dict[str, Any] | None = None,
) -> SignatureEvent:
    """Append the history row for a change already applied to `signature`, and audit it.

    `data` is part of public history (change feeds): never put emails, IPs, tokens or private reasons in it;
    `audit_data` is private to admins.
    """
    at = at or timezone.now()
    event = SignatureEvent.objects.create(
        signature=signature,
        letter_id=signature.letter_id,
        kind=kind,
        at=at,
        actor=actor if getattr(actor, "pk", None) else None,
        visible_before=before.visible,
        visible_after=signature.is_visible,
        level_before=before.level,
        level_after=signature.verification_level,
        data=data or {},
    )
    audit_log(
        action=f"letters.signature.{kind}",
        target=signature,
        actor=actor,
        data={**(data or {}), **(audit_data or {})},
        at=at,
    )
    return event
