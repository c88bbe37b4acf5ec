"""The audit log: one AuditEvent per state change, written inside the caller's transaction."""

from datetime import datetime
from typing import Any, TypeAlias

from django.contrib.auth.models import AnonymousUser, User
from django.db import models
from django.utils import timezone

from registry.models import AuditEvent

# Who did it: a staff user (request.user in the admin and staff API), or nobody for the system and anonymous signers.
Actor: TypeAlias = User | AnonymousUser | None


def actor_user(actor: Actor) -> User | None:
    """The user to store as the actor of a row: None for nobody, anonymous or an unsaved user."""
    return actor if isinstance(actor, User) and actor.pk else None


def audit_log(
    *,
    action: str,
    target: models.Model,
    actor: Actor = None,
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
    actor: Actor = None,
    data: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> AuditEvent:
    """The unsaved row `audit_log` writes (for callers that insert it in one statement with its target)."""
    return AuditEvent(
        actor=actor_user(actor),
        action=action,
        target_type=target._meta.label_lower,
        target_id=str(target.pk),
        data=data or {},
        at=at or timezone.now(),
    )
