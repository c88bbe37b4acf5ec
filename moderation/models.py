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
