"""What the database derives from letters and their signatures' history: the export-line projection, the folded
counts and their buckets, the queues that triggers fill for the transparency log and the webhooks, commitments to
shown names, and milestones reached. Written by triggers and batch jobs, never on a signer's request path."""

from django.db import models
from django.db.models import Q
from django.db.models.functions import Now

from letters.models.core import Letter, Signature


class ExportLine(models.Model):
    """A public signature as its line of the CSV export: a projection kept by database triggers (PostgreSQL only,
    migration 0007), so exporting a letter reads one narrow column in order instead of joining and escaping per row.

    Never written from Python; `manage.py rebuild_export_lines` rebuilds it and `--check` compares it with the
    source view. The Python export (letters.exports.export_row) renders the same bytes (tested)."""

    signature = models.OneToOneField(
        Signature, primary_key=True, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    letter = models.ForeignKey(
        Letter, on_delete=models.DO_NOTHING, db_constraint=False, db_index=False, related_name="+"
    )
    confirmed_at = models.DateTimeField()
    line = models.TextField()

    class Meta:
        indexes = [models.Index(fields=["letter", "confirmed_at", "signature"], name="exportline_order_idx")]

    def __str__(self) -> str:
        return f"export line of {self.signature_id}"


class LetterCount(models.Model):
    """Per-letter public counts, folded from SignatureEvents in batches (never updated per signature)."""

    letter = models.OneToOneField(Letter, on_delete=models.CASCADE, related_name="count", primary_key=True)
    public = models.PositiveIntegerField(default=0)
    verified = models.PositiveIntegerField(default=0)
    by_level = models.JSONField(default=dict)
    withdrawn = models.PositiveIntegerField(default=0)
    rejected = models.PositiveIntegerField(default=0, help_text="Signatures rejected after being public.")
    name_withheld = models.PositiveIntegerField(default=0)
    by_organization = models.JSONField(default=dict, help_text="Public count per organization key.")
    last_event_id = models.BigIntegerField(default=0, help_text="The highest event id folded (for information only).")
    counted_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="The fold's horizon: the totals are exactly the history's at this instant (letters.counts).",
    )

    def __str__(self) -> str:
        return f"{self.letter_id}: {self.public}"


class LetterCountBucket(models.Model):
    """Changes to the public list per letter per UTC minute, hour and day (by event time).

    Every change is added to its minute, its hour and its day, so the counts as the public saw them at any instant
    are a sum of at most ~110 rows (whole days, then hours, then minutes) plus that minute's events, however many
    signatures the letter has.
    """

    class Span(models.TextChoices):
        MINUTE = "minute", "Minute"
        HOUR = "hour", "Hour"
        DAY = "day", "Day"

    letter = models.ForeignKey(Letter, on_delete=models.CASCADE, related_name="count_buckets")
    span = models.CharField(max_length=6, choices=Span.choices, default=Span.MINUTE)
    start = models.DateTimeField(help_text="Start of the bucket (a minute, an hour or a day, by span).")
    added = models.PositiveIntegerField(default=0)
    removed = models.PositiveIntegerField(default=0)
    withdrawn = models.PositiveIntegerField(default=0)
    rejected = models.PositiveIntegerField(default=0)
    name_withheld_delta = models.IntegerField(default=0)
    events = models.PositiveIntegerField(
        default=0, help_text="History events folded into this bucket (the fold's check for late commits compares it)."
    )
    by_level = models.JSONField(default=dict, help_text="Change of the public count per verification level.")
    by_organization = models.JSONField(default=dict, help_text="Change of the public count per organization key.")

    class Meta:
        ordering = ["letter", "span", "start"]
        constraints = [models.UniqueConstraint(fields=["letter", "span", "start"], name="count_bucket_unique")]

    def __str__(self) -> str:
        return f"{self.letter_id} {self.span} {self.start:%Y-%m-%d %H:%M} +{self.added} -{self.removed}"


class LogQueue(models.Model):
    """A public change waiting for the transparency log: written by database triggers in the transaction of the
    SignatureEvent (one that touches the public list) or LetterVersion it names (migration 0018), deleted by the batch
    that logs it (letters.transparency_log). Never written from Python."""

    event_id = models.BigIntegerField(null=True)
    version_id = models.BigIntegerField(null=True)

    def __str__(self) -> str:
        return f"queued event {self.event_id}" if self.event_id else f"queued version {self.version_id}"


class SignatureCommitment(models.Model):
    """The salt of the commitment SHA-256(salt ‖ name) the transparency log holds for a signature, published with
    the public list, and the index of the entry that logged it entering the list (for the signer's receipt).
    Erasure sets the salt to NULL: the leaf stays, the name can no longer be proved from it."""

    signature = models.OneToOneField(Signature, primary_key=True, on_delete=models.CASCADE, related_name="commitment")
    salt = models.BinaryField(max_length=16, null=True)
    entered_index = models.BigIntegerField(null=True, help_text="Log index of the entry `entered`, once logged.")

    class Meta:
        # A new checkpoint finds the receipts it makes provable by range (letters.transparency_log.receipts_enqueue).
        indexes = [
            models.Index(
                fields=["entered_index"], name="commitment_entered_idx", condition=Q(entered_index__isnull=False)
            )
        ]

    def __str__(self) -> str:
        return f"commitment of {self.signature_id}"


class AnnouncementQueue(models.Model):
    """A change the webhooks announce, waiting for their fan-out: written by database triggers in the transaction
    that makes it (migration 0027), like LogQueue — a SignatureEvent that moves a signature into or out of the public
    list, a new LetterVersion, a letter's first opening or its closing, a Milestone. The fan-out (webhooks.fanout)
    turns each into deliveries for the endpoints subscribed to it and deletes it. Never written from Python."""

    class Kind(models.TextChoices):
        EVENT = "event", "Signature event"
        VERSION = "version", "Letter version"
        STATUS = "status", "Letter status"
        MILESTONE = "milestone", "Milestone"

    kind = models.CharField(max_length=10, choices=Kind.choices)
    object_id = models.BigIntegerField(help_text="The event, version, letter or milestone it names.")
    status_before = models.CharField(max_length=20, blank=True, default="", db_default="")
    status_after = models.CharField(max_length=20, blank=True, default="", db_default="")
    created_at = models.DateTimeField(db_default=Now())

    def __str__(self) -> str:
        return f"queued {self.kind} {self.object_id}"


class Milestone(models.Model):
    """The folded public count of a letter first reached `threshold` (letters.counts); recorded once, so a count
    that drops below and rises again is not announced twice."""

    letter = models.ForeignKey(Letter, on_delete=models.CASCADE, related_name="milestones")
    threshold = models.PositiveIntegerField()
    count = models.PositiveIntegerField(help_text="The public count of the fold that reached it.")
    reached_at = models.DateTimeField()

    class Meta:
        ordering = ["letter", "threshold"]
        constraints = [models.UniqueConstraint(fields=["letter", "threshold"], name="milestone_once_per_threshold")]

    def __str__(self) -> str:
        return f"{self.letter_id} reached {self.threshold}"
