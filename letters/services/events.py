"""The one way a signature's state change is recorded: a SignatureEvent plus an AuditEvent."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.utils import timezone

from letters.models import Signature, SignatureEvent
from letters.presentation import shown_organization_key
from letters.transparency_log import transparency_log_soon
from registry.audit import Actor, actor_user, audit_event_build
from registry.models import AuditEvent


@dataclass(frozen=True)
class SignatureState:
    visible: bool
    level: str
    organization: str | None = None  # the shown organization's count key, when visible


def signature_state(signature: Signature) -> SignatureState:
    """Snapshot taken before a change, passed back to `signature_event_record` after it."""
    visible = signature.is_visible
    return SignatureState(
        visible=visible,
        level=signature.verification_level,
        organization=shown_organization_key(signature) if visible else None,
    )


def signature_event_record(
    *,
    signature: Signature,
    kind: str,
    before: SignatureState,
    actor: Actor = None,
    at: datetime | None = None,
    data: dict[str, Any] | None = None,
    audit_data: dict[str, Any] | None = None,
) -> SignatureEvent:
    """Append the history row for a change already applied to `signature`, and audit it.

    `data` is part of public history (change feeds): never put emails, IPs, tokens or private reasons in it;
    `audit_data` is private to admins.
    """
    event, audit = signature_event_build(
        signature=signature, kind=kind, before=before, actor=actor, at=at, data=data, audit_data=audit_data
    )
    event.save(force_insert=True)
    audit.save(force_insert=True)
    if event.visible_before or event.visible_after:
        transparency_log_soon()
    return event


def signature_event_build(
    *,
    signature: Signature,
    kind: str,
    before: SignatureState,
    actor: Actor = None,
    at: datetime | None = None,
    data: dict[str, Any] | None = None,
    audit_data: dict[str, Any] | None = None,
) -> tuple[SignatureEvent, AuditEvent]:
    """The unsaved history and audit rows `signature_event_record` writes (see letters.services.sign_insert)."""
    at = at or timezone.now()
    after = signature_state(signature)
    event = SignatureEvent(
        signature=signature,
        letter_id=signature.letter_id,
        kind=kind,
        at=at,
        actor=actor_user(actor),
        visible_before=before.visible,
        visible_after=after.visible,
        level_before=before.level,
        level_after=signature.verification_level,
        organization_before=before.organization,
        organization_after=after.organization,
        data=data or {},
    )
    audit = audit_event_build(
        action=f"letters.signature.{kind}",
        target=signature,
        actor=actor,
        data={**(data or {}), **(audit_data or {})},
        at=at,
    )
    return event, audit
