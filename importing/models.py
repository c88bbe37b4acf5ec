"""An import of signatures from a spreadsheet: the file, its column mapping, its mode, its progress, its rows."""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from letters.models import Letter, Signature
from registry.models import new_public_id


class SignatureImport(models.Model):
    class Mode(models.TextChoices):
        CONFIRM = "confirm", "Confirm by email (each signer confirms before appearing)"
        VOUCHED = "vouched", "Vouched for by the organizer (public at once, level “vouched”)"
        INVITE = "invite", "Invite them (each gets a one-click signing link; level “invited”)"

    class Status(models.TextChoices):
        PREVIEW = "preview", "Preview"
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"
        DISCARDED = "discarded", "Discarded"
        UNDONE = "undone", "Undone"

    public_id = models.CharField(max_length=24, unique=True, default=new_public_id, editable=False)
    letter = models.ForeignKey(Letter, on_delete=models.PROTECT, related_name="+")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    filename = models.CharField(max_length=255)
    sha256 = models.CharField(max_length=64)
    size_bytes = models.PositiveIntegerField()
    # The upload itself, kept while the import can still run (a worker resumes from it); emptied when it ends.
    content = models.BinaryField(blank=True)
    # The preview's checked rows (importing.checked: compact, compressed), so the job writes what the organizer saw
    # without checking every row again; rewritten with the mapping, emptied when the import ends.
    checked = models.BinaryField(blank=True, default=b"")
    mapping = models.JSONField(default=dict)
    mode = models.CharField(max_length=10, choices=Mode.choices, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PREVIEW)
    summary = models.JSONField(default=dict, help_text="The preview's counts by row status.")
    rows_total = models.PositiveIntegerField(default=0)
    rows_done = models.PositiveIntegerField(default=0, help_text="Data rows processed (committed), in file order.")
    rows_created = models.PositiveIntegerField(default=0)
    rows_skipped = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
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
        constraints = [
            models.CheckConstraint(condition=Q(rows_done__lte=F("rows_total")), name="import_done_within_total"),
            models.CheckConstraint(
                condition=Q(status__in=["preview", "discarded"]) | ~Q(mode=""), name="import_started_has_mode"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.filename} ({self.get_status_display()})"


class SignatureImportRow(models.Model):
    """A row of the file that made a signature (so undo removes exactly those), or found the address signed."""

    class Outcome(models.TextChoices):
        CREATED = "created", "Created"
        ALREADY_SIGNED = "already_signed", "Already signed"
        INVITED = "invited", "Invited"
        NOT_INVITED = "not_invited", "Not invited (declined before, or an invitation is open)"

    # `import_row_once` leads with the import and serves every lookup by it: no index of its own (one less per row).
    signature_import = models.ForeignKey(SignatureImport, on_delete=models.CASCADE, related_name="rows", db_index=False)
    number = models.PositiveIntegerField(help_text="The row's number in the file (the header is row 1).")
    signature = models.ForeignKey(Signature, null=True, on_delete=models.SET_NULL, related_name="+")
    outcome = models.CharField(max_length=20, choices=Outcome.choices)

    class Meta:
        ordering = ["signature_import", "number"]
        constraints = [
            models.UniqueConstraint(fields=["signature_import", "number"], name="import_row_once"),
        ]

    def __str__(self) -> str:
        return f"row {self.number}: {self.outcome}"


class SignerInvitation(models.Model):
    """A named person invited by an organizer to sign in one click: a single-use, expiring emailed link.

    Only the sha256 of the 256-bit token is stored; the token exists in the email alone (a reminder issues a new one
    and the old link stops working). The state shown to organizers is derived (`state`), never stored twice.
    """

    class State(models.TextChoices):
        QUEUED = "queued", "Queued"
        SENT = "sent", "Sent"
        OPENED = "opened", "Opened"
        SIGNED = "signed", "Signed"
        DECLINED = "declined", "Declined"
        EXPIRED = "expired", "Expired"
        REVOKED = "revoked", "Revoked"
        BOUNCED = "bounced", "Bounced"

    public_id = models.CharField(max_length=24, unique=True, default=new_public_id, editable=False)
    letter = models.ForeignKey(Letter, on_delete=models.CASCADE, related_name="+", db_index=False)
    email = models.EmailField(max_length=254)
    email_key = models.CharField(max_length=254)
    name = models.CharField(max_length=200)
    title = models.CharField(max_length=200, blank=True)
    organization_name = models.CharField(max_length=200, blank=True)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    signature_import = models.ForeignKey(
        SignatureImport, null=True, blank=True, on_delete=models.SET_NULL, related_name="invitations"
    )
    message = models.ForeignKey(
        "letters.OutboxMessage", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    reminders_sent = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    opened_at = models.DateTimeField(null=True, blank=True)
    signed_at = models.DateTimeField(null=True, blank=True)
    signature = models.ForeignKey(Signature, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    declined_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["letter", "-created_at", "-id"]
        constraints = [
            # One invitation per address and letter that has not ended: signed, declined or revoked.
            models.UniqueConstraint(
                fields=["letter", "email_key"],
                condition=Q(signed_at__isnull=True, declined_at__isnull=True, revoked_at__isnull=True),
                name="signer_invitation_one_open_per_address",
            ),
            models.CheckConstraint(
                condition=(
                    Q(signed_at__isnull=True, declined_at__isnull=True)
                    | Q(signed_at__isnull=True, revoked_at__isnull=True)
                    | Q(declined_at__isnull=True, revoked_at__isnull=True)
                ),
                name="signer_invitation_one_ending",
            ),
            models.CheckConstraint(condition=Q(expires_at__gt=F("created_at")), name="signer_invitation_expires_later"),
        ]

    def __str__(self) -> str:
        return f"{self.name} <{self.email_key}> ({self.state})"

    @property
    def state(self) -> str:
        if self.signed_at:
            return self.State.SIGNED
        if self.declined_at:
            return self.State.DECLINED
        if self.revoked_at:
            return self.State.REVOKED
        if self.expires_at <= timezone.now():
            return self.State.EXPIRED
        message = self.message
        if message is not None and message.failed_at:
            return self.State.BOUNCED
        if self.opened_at:
            return self.State.OPENED
        if message is not None and message.sent_at:
            return self.State.SENT
        return self.State.QUEUED
