"""Webhook endpoints of a letter, their signing secrets, and the deliveries (one per endpoint and announced change)
with every attempt made to send them (Standard Webhooks v1)."""

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q

from letters.models import Letter
from registry.models import new_public_id

EVENT_TYPES = (
    "signature.confirmed",
    "signature.withdrawn",
    "signature.invalidated",
    "letter.published",
    "letter.version_published",
    "letter.closed",
    "milestone.reached",
    "alert.trending",
)


def new_webhook_id() -> str:
    """The `webhook-id` of a message: opaque, unique, kept for every retry and redelivery."""
    return "msg_" + secrets.token_urlsafe(18)


class Endpoint(models.Model):
    public_id = models.CharField(max_length=24, unique=True, default=new_public_id, editable=False)
    letter = models.ForeignKey(Letter, on_delete=models.CASCADE, related_name="webhook_endpoints")
    url = models.CharField(max_length=500, help_text="Checked again before every send (webhooks.ssrf).")
    description = models.CharField(max_length=200, blank=True)
    event_types = models.JSONField(default=list, help_text="The event types it subscribes to.")
    active = models.BooleanField(default=True)
    disabled_at = models.DateTimeField(null=True, blank=True)
    disabled_reason = models.CharField(max_length=200, blank=True)
    backoff_until = models.DateTimeField(
        null=True, blank=True, help_text="Its last attempt failed: nothing is sent to it before this."
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["letter", "created_at", "id"]

    def __str__(self) -> str:
        return f"{self.url} ({self.letter_id})"


class EndpointSecret(models.Model):
    """A `whsec_` signing secret, stored encrypted (webhooks.secrets) and shown once, when made. After a rotation
    the old one signs too until `expires_at` (both signatures in `webhook-signature`)."""

    endpoint = models.ForeignKey(Endpoint, on_delete=models.CASCADE, related_name="secrets")
    encrypted = models.TextField()
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"secret of {self.endpoint_id} from {self.created_at:%Y-%m-%d %H:%M}"


class Delivery(models.Model):
    """One message to one endpoint; its `webhook_id` and payload never change, whatever the retries."""

    endpoint = models.ForeignKey(Endpoint, on_delete=models.CASCADE, related_name="deliveries")
    event_type = models.CharField(max_length=40)
    webhook_id = models.CharField(max_length=40, unique=True, default=new_webhook_id, editable=False)
    source = models.CharField(max_length=60, help_text="The announced change (kind:id), once per endpoint.")
    payload = models.JSONField()
    created_at = models.DateTimeField()
    next_attempt_at = models.DateTimeField()
    claimed_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    delivered_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True, help_text="Attempts used up, or the endpoint said 410.")
    last_status = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["endpoint", "source"], name="webhook_delivery_once_per_source"),
            models.CheckConstraint(
                condition=Q(delivered_at__isnull=True) | Q(failed_at__isnull=True),
                name="webhook_delivered_or_failed_not_both",
            ),
        ]
        indexes = [
            models.Index(
                fields=["next_attempt_at", "id"],
                name="webhook_delivery_waiting_idx",
                condition=Q(delivered_at__isnull=True, failed_at__isnull=True),
            ),
            models.Index(fields=["endpoint", "created_at", "id"], name="webhook_delivery_log_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.webhook_id} {self.event_type} → {self.endpoint_id}"


class Attempt(models.Model):
    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attempt_log")
    at = models.DateTimeField()
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    latency_ms = models.PositiveIntegerField(default=0)
    error = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.delivery_id} at {self.at:%H:%M:%S}: {self.status_code or self.error}"
