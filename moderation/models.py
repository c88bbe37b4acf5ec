"""A bulk invalidation: criteria over one letter's signatures, run as a job, undoable; each signature it removed keeps
an item saying so (and the rejection event it made, to tell whether anything touched the signature since)."""

from django.conf import settings
from django.db import models

from letters.models import Letter, Signature, SignatureEvent
from registry.models import new_public_id


class Invalidation(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        CANCELLED = "cancelled", "Cancelled"
        UNDOING = "undoing", "Being undone"
        UNDONE = "undone", "Undone"

    public_id = models.CharField(max_length=24, unique=True, default=new_public_id, editable=False)
    letter = models.ForeignKey(Letter, on_delete=models.PROTECT, related_name="+")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    criteria = models.JSONField(help_text="The checked criteria (moderation.criteria), canonical.")
    criteria_sha256 = models.CharField(max_length=64)
    reason = models.CharField(max_length=500, help_text="Private: why, for the audit trail.")
    public_reason = models.CharField(max_length=200, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    matched = models.PositiveIntegerField(help_text="Signatures the preview counted when it was started.")
    last_signature_id = models.BigIntegerField(default=0, help_text="Watermark: signatures up to this id are done.")
    removed = models.PositiveIntegerField(default=0)
    restored = models.PositiveIntegerField(default=0)
    cancel_requested = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    undone_at = models.DateTimeField(null=True, blank=True)
    undone_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    logged_index = models.BigIntegerField(
        null=True, blank=True, help_text="Transparency log index of the entry saying it ran (moderation.log)."
    )
    undo_logged_index = models.BigIntegerField(
        null=True, blank=True, help_text="Transparency log index of the entry saying it was undone."
    )

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"invalidation {self.public_id} ({self.get_status_display()})"


class InvalidationItem(models.Model):
    invalidation = models.ForeignKey(Invalidation, on_delete=models.CASCADE, related_name="items")
    signature = models.ForeignKey(Signature, on_delete=models.CASCADE, related_name="+")
    status_before = models.CharField(max_length=20, choices=Signature.Status.choices)
    event = models.ForeignKey(SignatureEvent, on_delete=models.CASCADE, related_name="+", db_index=False)
    restored_at = models.DateTimeField(null=True, blank=True)
    kept_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="Undo left it removed: something touched it since, or its address signed again.",
    )

    class Meta:
        ordering = ["invalidation", "signature"]
        constraints = [
            models.UniqueConstraint(fields=["invalidation", "signature"], name="invalidation_item_once"),
        ]

    def __str__(self) -> str:
        return f"{self.invalidation_id}: {self.signature_id}"


class TrendingAlert(models.Model):
    """A wave of new signatures on one letter from one address, network or email domain (moderation.alerts).

    It marks, it never blocks. While the wave lasts (`resolved_at` empty) there is one alert per (letter, dimension,
    key), whatever a moderator decided: a continuing wave raises its count and peak; a quiet period ends it, and a
    later wave opens a new one. `key` is a keyed hash for addresses and networks (never shown in full) and the domain
    itself for email domains."""

    class Dimension(models.TextChoices):
        IP = "ip", "IP address"
        IP_PREFIX = "ip_prefix", "Network (/24 or /64)"
        EMAIL_DOMAIN = "email_domain", "Email domain"

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        ACKNOWLEDGED = "acknowledged", "Acknowledged"
        DISMISSED = "dismissed", "Dismissed"
        RESOLVED = "resolved", "Resolved"

    ACTIVE_STATUSES = (Status.OPEN, Status.ACKNOWLEDGED)

    public_id = models.CharField(max_length=24, unique=True, default=new_public_id, editable=False)
    letter = models.ForeignKey(Letter, on_delete=models.CASCADE, related_name="+", db_index=False)
    dimension = models.CharField(max_length=20, choices=Dimension.choices)
    key = models.CharField(max_length=254, help_text="Private for addresses and networks: their keyed hash.")
    count = models.PositiveIntegerField(help_text="New live signatures in the window when last seen over threshold.")
    peak = models.PositiveIntegerField()
    window_seconds = models.PositiveIntegerField()
    threshold = models.PositiveIntegerField()
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.OPEN)
    first_seen_at = models.DateTimeField()
    last_seen_at = models.DateTimeField()
    resolved_at = models.DateTimeField(null=True, blank=True, help_text="The wave ended (a quiet period passed).")
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True, help_text="Acknowledged or dismissed.")
    announced_at = models.DateTimeField(null=True, blank=True, help_text="The alert.trending webhook was fanned out.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-last_seen_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["letter", "dimension", "key"],
                condition=models.Q(resolved_at__isnull=True),
                name="trending_alert_one_per_wave",
            ),
            models.CheckConstraint(
                condition=~models.Q(status="resolved") | models.Q(resolved_at__isnull=False),
                name="trending_alert_resolved_has_time",
            ),
        ]
        indexes = [
            models.Index(fields=["letter", "status", "last_seen_at"], name="trending_alert_letter_idx"),
            # The webhook fan-out claims unannounced alerts in id order.
            models.Index(fields=["id"], name="trending_alert_unannounced", condition=models.Q(announced_at=None)),
        ]

    def __str__(self) -> str:
        return f"{self.get_dimension_display()} wave on {self.letter_id} ({self.get_status_display()})"

    @property
    def key_shown(self) -> str:
        """What pages show: the domain, or the first characters of a hash (enough to tell two apart)."""
        return self.key if self.dimension == self.Dimension.EMAIL_DOMAIN else self.key[:10]


class AlertScan(models.Model):
    """One pass of the trend detector: the highest signature id that existed then. The window's scan starts after the
    id of the last pass older than the window, so each pass reads only recent rows through the primary key (no
    index on signed_at is paid on every signature for it)."""

    scanned_at = models.DateTimeField()
    max_signature_id = models.BigIntegerField()

    class Meta:
        ordering = ["scanned_at"]
        indexes = [models.Index(fields=["scanned_at"], name="alert_scan_at_idx")]

    def __str__(self) -> str:
        return f"scan at {self.scanned_at:%H:%M:%S} up to {self.max_signature_id}"


class AlertThresholds(models.Model):
    """One letter's own alert thresholds; an empty one means the deployment's setting (moderation.alerts)."""

    letter = models.OneToOneField(Letter, on_delete=models.CASCADE, related_name="+")
    ip = models.PositiveIntegerField(null=True, blank=True, help_text="Instead of ALERT_IP_THRESHOLD.")
    ip_prefix = models.PositiveIntegerField(null=True, blank=True, help_text="Instead of ALERT_PREFIX_THRESHOLD.")
    email_domain = models.PositiveIntegerField(null=True, blank=True, help_text="Instead of ALERT_DOMAIN_THRESHOLD.")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=models.Q(ip__gte=1) | models.Q(ip=None), name="alert_thresholds_ip_min"),
            models.CheckConstraint(
                condition=models.Q(ip_prefix__gte=1) | models.Q(ip_prefix=None), name="alert_thresholds_prefix_min"
            ),
            models.CheckConstraint(
                condition=models.Q(email_domain__gte=1) | models.Q(email_domain=None),
                name="alert_thresholds_domain_min",
            ),
        ]

    def __str__(self) -> str:
        return f"alert thresholds of {self.letter_id}"
