"""Owners manage their letter's webhooks: endpoints (URL, events, on/off), secrets (shown once; rotation with an
overlap during which both sign), manual redelivery, a test `ping`, and the letter's own milestone thresholds. Every
change is audited; callers check organizing.permissions.RUN_LETTER first."""

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from letters.models import Letter
from registry.audit import Actor, actor_user, audit_log
from webhooks import payloads
from webhooks.models import EVENT_TYPES, Delivery, Endpoint, EndpointSecret, new_webhook_id
from webhooks.secrets import secret_store
from webhooks.ssrf import url_errors

MAX_ENDPOINTS_PER_LETTER = 10
MAX_OWN_THRESHOLDS = 20
PING = "webhook.ping"


@dataclass(frozen=True)
class EndpointWithSecret:
    endpoint: Endpoint
    secret: str  # shown once: only its encryption is kept


def _clean(*, url: str | None, event_types: list[str] | None, description: str | None) -> dict[str, object]:
    errors: dict[str, list[str]] = {}
    cleaned: dict[str, object] = {}
    if url is not None:
        url = url.strip()
        errors["url"] = url_errors(url) if url else ["Enter the receiver's URL."]
        cleaned["url"] = url
    if event_types is not None:
        unknown = sorted(set(event_types) - set(EVENT_TYPES))
        if unknown:
            errors["event_types"] = [f"Unknown event type: {', '.join(unknown)}."]
        elif not event_types:
            errors["event_types"] = ["Choose at least one event."]
        cleaned["event_types"] = [e for e in EVENT_TYPES if e in event_types]
    if description is not None:
        description = description.strip()
        if len(description) > 200:
            errors["description"] = ["At most 200 characters."]
        cleaned["description"] = description
    errors = {field: messages for field, messages in errors.items() if messages}
    if errors:
        raise ValidationError(errors)
    return cleaned


@transaction.atomic
def endpoint_create(
    *, letter: Letter, url: str, event_types: list[str], description: str = "", actor: Actor = None
) -> EndpointWithSecret:
    """A new endpoint and its first secret. Raises ValidationError with field errors."""
    cleaned = _clean(url=url, event_types=event_types, description=description)
    if Endpoint.objects.filter(letter=letter).count() >= MAX_ENDPOINTS_PER_LETTER:
        raise ValidationError({"url": [f"A letter has at most {MAX_ENDPOINTS_PER_LETTER} endpoints."]})
    now = timezone.now()
    endpoint = Endpoint.objects.create(letter=letter, created_by=actor_user(actor), **cleaned)
    secret = secret_store(endpoint=endpoint, at=now)
    audit_log(
        action="webhooks.endpoint.created",
        target=endpoint,
        actor=actor,
        at=now,
        data={"letter": letter.slug, "url": endpoint.url, "event_types": endpoint.event_types},
    )
    return EndpointWithSecret(endpoint, secret)


@transaction.atomic
def endpoint_update(
    *,
    endpoint: Endpoint,
    url: str | None = None,
    event_types: list[str] | None = None,
    description: str | None = None,
    active: bool | None = None,
    actor: Actor = None,
) -> Endpoint:
    """Change what is given; enabling a disabled endpoint resumes its waiting deliveries. Audited with the changes."""
    cleaned = _clean(url=url, event_types=event_types, description=description)
    endpoint = Endpoint.objects.select_for_update(of=("self",), no_key=True).get(pk=endpoint.pk)
    changes: dict[str, object] = {name: value for name, value in cleaned.items() if getattr(endpoint, name) != value}
    if active is not None and active != endpoint.active:
        changes["active"] = active
        if active:
            changes.update(disabled_at=None, disabled_reason="", backoff_until=None)
        else:
            changes.update(disabled_at=timezone.now(), disabled_reason="Disabled by an owner.")
    if not changes:
        return endpoint
    for name, value in changes.items():
        setattr(endpoint, name, value)
    endpoint.save(update_fields=[*changes, "updated_at"])
    audit_log(
        action="webhooks.endpoint.updated",
        target=endpoint,
        actor=actor,
        data={k: v for k, v in changes.items() if k in ("url", "event_types", "description", "active")},
    )
    return endpoint


@transaction.atomic
def endpoint_delete(*, endpoint: Endpoint, actor: Actor = None) -> None:
    """Delete the endpoint, its secrets and delivery log (the audit row keeps its URL)."""
    audit_log(
        action="webhooks.endpoint.deleted",
        target=endpoint,
        actor=actor,
        data={"letter_id": endpoint.letter_id, "url": endpoint.url},
    )
    endpoint.delete()


@transaction.atomic
def endpoint_secret_rotate(*, endpoint: Endpoint, actor: Actor = None, at: datetime | None = None) -> str:
    """A new secret, returned once; the ones before keep signing for WEBHOOK_SECRET_OVERLAP (receivers switch in
    that window: every delivery meanwhile carries a signature by each)."""
    at = at or timezone.now()
    Endpoint.objects.select_for_update(of=("self",), no_key=True).get(pk=endpoint.pk)
    overlap_end = at + settings.WEBHOOK_SECRET_OVERLAP
    EndpointSecret.objects.filter(endpoint=endpoint, expires_at=None).update(expires_at=overlap_end)
    EndpointSecret.objects.filter(endpoint=endpoint, expires_at__gt=overlap_end).update(expires_at=overlap_end)
    secret = secret_store(endpoint=endpoint, at=at)
    audit_log(
        action="webhooks.endpoint.secret_rotated",
        target=endpoint,
        actor=actor,
        at=at,
        data={"previous_valid_until": overlap_end.isoformat()},
    )
    return secret


class RedeliveryRefused(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@transaction.atomic
def delivery_redeliver(*, delivery: Delivery, actor: Actor = None) -> Delivery:
    """Send a delivery again now with its `webhook-id` (a receiver deduplicating on it sees a retry): its retry
    schedule starts over and the endpoint's back-off is lifted. Refused while the endpoint is disabled."""
    endpoint = Endpoint.objects.select_for_update(of=("self",), no_key=True).get(pk=delivery.endpoint_id)
    if not endpoint.active:
        raise RedeliveryRefused("Enable the endpoint before redelivering.")
    now = timezone.now()
    Delivery.objects.filter(pk=delivery.pk).update(
        delivered_at=None, failed_at=None, attempts=0, next_attempt_at=now, claimed_at=None
    )
    Endpoint.objects.filter(pk=endpoint.pk).update(backoff_until=None)
    audit_log(action="webhooks.delivery.redelivered", target=delivery, actor=actor, at=now)
    delivery.refresh_from_db()
    return delivery


@transaction.atomic
def endpoint_ping(*, endpoint: Endpoint, actor: Actor = None) -> Delivery:
    """Queue a `webhook.ping` delivery to the endpoint (whatever it subscribes to), to test a receiver."""
    now = timezone.now()
    webhook_id = new_webhook_id()
    slug = endpoint.letter.slug
    delivery = Delivery.objects.create(
        endpoint=endpoint,
        event_type=PING,
        webhook_id=webhook_id,
        source=f"ping:{webhook_id}",
        payload=payloads.payload(event_type=PING, at=now, data={"letter": slug, "links": payloads.letter_links(slug)}),
        created_at=now,
        next_attempt_at=now,
    )
    audit_log(action="webhooks.endpoint.pinged", target=endpoint, actor=actor, at=now, data={"webhook_id": webhook_id})
    return delivery


@transaction.atomic
def letter_milestones_set(*, letter: Letter, thresholds: list[int], actor: Actor = None) -> Letter:
    """The letter's own milestone thresholds (besides MILESTONE_THRESHOLDS): whole numbers from 1 to 10,000,000."""
    if not isinstance(thresholds, list) or not all(isinstance(t, int) and not isinstance(t, bool) for t in thresholds):
        raise ValidationError({"thresholds": ["A list of whole numbers."]})
    if any(t < 1 or t > 10_000_000 for t in thresholds):
        raise ValidationError({"thresholds": ["Each threshold is from 1 to 10,000,000."]})
    if len(set(thresholds)) > MAX_OWN_THRESHOLDS:
        raise ValidationError({"thresholds": [f"At most {MAX_OWN_THRESHOLDS} thresholds."]})
    cleaned = sorted(set(thresholds))
    before = list(letter.milestone_thresholds or [])
    Letter.objects.filter(pk=letter.pk).update(milestone_thresholds=cleaned)
    letter.milestone_thresholds = cleaned
    audit_log(action="webhooks.milestones.changed", target=letter, actor=actor, data={"from": before, "to": cleaned})
    return letter
