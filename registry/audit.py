"""The audit log: one AuditEvent per state change, written inside the caller's transaction."""

from datetime import datetime
from typing import Any

from django.db import models
from django.utils import timezone

from registry.models import AuditEvent


def audit_log(
    *,
    action: str,
    target: models.Model,
    actor: Any = None,
    data: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> AuditEvent:
    """Record `action` (namespaced, e.g. "letters.signature.confirmed") on `target`."""
    event = audit_event_build(action=action, target=target, actor=actor, data=data, at=at)
    event.save(force_insert=True)
    return event


def audit_event_build(
    *,
    action: str,
    target: models.Model,
    actor: Any = None,
    data: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> AuditEvent:
    """The unsaved row `audit_log` writes (for callers that insert it in one statement with its target)."""
    return AuditEvent(
        actor=actor if getattr(actor, "pk", None) else None,
        action=action,
        target_type=target._meta.label_lower,
        target_id=str(target.pk),
        data=data or {},
        at=at or timezone.now(),
    )
