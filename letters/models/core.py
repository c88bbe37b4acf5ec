"""Letters, their versions, signatures, the signature history, verification records, tokens and the outbox."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from registry.models import Organization, Person, new_public_id


class LetterQuerySet(models.QuerySet["Letter"]):
    def published(self) -> "LetterQuerySet":
        """Letters the public can see: every status but draft and scheduled (under embargo until `publish_at`)."""
        return self.exclude(status__in=Letter.UNPUBLISHED)


class Letter(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        SCHEDULED = "scheduled", "Scheduled (embargoed until its publication time)"
        OPEN = "open", "Open for signatures"
        PAUSED = "paused", "Paused"
        CLOSED = "closed", "Closed"

    # Not public yet: drafts, and scheduled letters before beat opens them (letters.services.lifecycle).
    UNPUBLISHED = (Status.DRAFT, Status.SCHEDULED)
    # Signing under embargo (invited signers, verification work) accepts these; the public form only OPEN.
    EMBARGO_SIGNING = (Status.OPEN, Status.SCHEDULED)

    slug = models.SlugField(max_length=100, unique=True)
    title = models.CharField(max_length=300)
    summary = models.TextField(blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.DRAFT)
    current_version = models.ForeignKey(
        "LetterVersion", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    sponsors: "models.ManyToManyField[Organization, LetterSponsor]" = models.ManyToManyField(
        Organization, through="LetterSponsor", related_name="sponsored_letters"
    )
    publish_at = models.DateTimeField(
        null=True, blank=True, help_text="When a scheduled letter opens (beat runs letters_open_due)."
    )
    material_version_number = models.PositiveIntegerField(
        default=1, help_text="The latest material version: signatures of earlier versions are asked to re-consent."
    )
    opened_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    milestone_thresholds = models.JSONField(
        default=list,
        blank=True,
        help_text="Public counts to announce (milestone.reached) besides MILESTONE_THRESHOLDS, set by the owners.",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = LetterQuerySet.as_manager()

    class Meta:
        ordering = ["-opened_at", "slug"]
        constraints = [
            # Signing, the letter page and exports all read the current version: only a draft may lack one.
            models.CheckConstraint(
                condition=Q(status="draft") | Q(current_version__isnull=False), name="letter_published_has_version"
            ),
            models.CheckConstraint(
                condition=~Q(status="scheduled") | Q(publish_at__isnull=False), name="letter_scheduled_has_time"
            ),
            models.CheckConstraint(
                condition=~Q(status="closed") | Q(closed_at__isnull=False), name="letter_closed_has_time"
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return f"/letters/{self.slug}/"

    @property
    def is_accepting_signatures(self) -> bool:
        return self.status == self.Status.OPEN


class LetterRecipient(models.Model):
    letter = models.ForeignKey(Letter, on_delete=models.CASCADE, related_name="recipients")
    position = models.PositiveSmallIntegerField(default=0)
    name = models.CharField(max_length=200)
    role = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["position", "id"]
        constraints = [models.UniqueConstraint(fields=["letter", "position"], name="recipient_position_unique")]

    def __str__(self) -> str:
        return f"{self.name} — {self.role}" if self.role else self.name


class LetterSponsor(models.Model):
    letter = models.ForeignKey(Letter, on_delete=models.CASCADE, related_name="sponsorships")
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="sponsorships")
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]
        constraints = [models.UniqueConstraint(fields=["letter", "organization"], name="sponsor_unique")]

    def __str__(self) -> str:
        return str(self.organization_id)


class LetterVersion(models.Model):
    class Kind(models.TextChoices):
        INITIAL = "initial", "Initial text"
        EDITORIAL = "editorial", "Editorial (signers stay bound to the version they signed)"
        MATERIAL = "material", "Material (signers of earlier versions are asked to re-consent)"

    letter = models.ForeignKey(Letter, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.INITIAL)
    note = models.CharField(max_length=500, blank=True, help_text="What changed, in the organizers' words (public).")
    body = models.TextField(help_text="Markdown.")
    sha256 = models.CharField(max_length=64)
    published_at = models.DateTimeField()

    class Meta:
        ordering = ["letter", "number"]
        constraints = [
            models.UniqueConstraint(fields=["letter", "number"], name="letter_version_number_unique"),
            models.CheckConstraint(
                condition=Q(number=1, kind="initial") | Q(number__gt=1, kind__in=["editorial", "material"]),
                name="letter_version_kind_by_number",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.letter_id} v{self.number}"


class VerificationLevel(models.TextChoices):
    NONE = "none", "Unconfirmed"
    EMAIL = "email", "Email confirmed"
    DOMAIN = "domain", "Organization domain"
    MANUAL = "manual", "Manually verified"
    INVITED = "invited", "Invited by organizers"
    VOUCHED = "vouched", "Vouched for by organizers"


# Levels a person or a proof vouches for: each needs its VerificationRecord (a database check).
LEVELS_WITH_RECORD = (
    VerificationLevel.DOMAIN,
    VerificationLevel.MANUAL,
    VerificationLevel.INVITED,
    VerificationLevel.VOUCHED,
)
# The levels counted as "verified": proven independently of the letter's organizers, by an address at the
# organization's verified domain or by an admin with evidence. Invited and vouched signatures rest on the organizers'
# word (their record says so); counted as verified, an editor's spreadsheet would raise the public number unreviewed.
VERIFIED_LEVELS = (VerificationLevel.DOMAIN, VerificationLevel.MANUAL)


class SignatureQuerySet(models.QuerySet["Signature"]):
    def visible(self) -> "SignatureQuerySet":
        """Part of the public list and counts (Signature.VISIBLE)."""
        return self.filter(Signature.VISIBLE)


class Signature(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending confirmation"
        CONFIRMED = "confirmed", "Confirmed"
        REJECTED = "rejected", "Rejected"
        WITHDRAWN = "withdrawn", "Withdrawn"
        MERGED = "merged", "Merged into another signature"

    class Source(models.TextChoices):
        WEB = "web", "Web form"
        API = "api", "API"
        IMPORT = "import", "Import"
        INVITATION = "invitation", "Invitation"

    class HoldReason(models.TextChoices):
        NONE = "", "Not held"
        PROTECTED_NAME = "protected_name", "Matches a protected name"
        SENIOR_TITLE = "senior_title", "Senior title at an unproven organization"
        MIXED_SCRIPT = "mixed_script", "Mixed-script name"
        RATE_LIMITED = "rate_limited", "Signed over the rate limit"
        ADMIN = "admin", "Held by an admin"

    LIVE_STATUSES = (Status.PENDING, Status.CONFIRMED)
    # Visible = confirmed and not held: the public list and every count. `is_visible` says the same of one row; the
    # export lines' SQL (migration 0007) too, with a test that they agree.
    VISIBLE = Q(status=Status.CONFIRMED, hold_reason="")

    # Indexes are few on purpose (each one is paid on every signature): the composite indexes below lead with
    # letter and person, and public_id's uniqueness needs no LIKE index.
    public_id = models.CharField(max_length=24, default=new_public_id, editable=False)
    letter = models.ForeignKey(Letter, on_delete=models.PROTECT, related_name="signatures", db_index=False)
    version = models.ForeignKey(LetterVersion, on_delete=models.PROTECT, related_name="signatures")
    person = models.ForeignKey(
        Person, null=True, blank=True, on_delete=models.PROTECT, related_name="signatures", db_index=False
    )
    name = models.CharField(max_length=200)
    title = models.CharField(max_length=200, blank=True)
    organization_name = models.CharField(max_length=200, blank=True)
    organization = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.SET_NULL, related_name="signatures", db_index=False
    )
    email = models.EmailField(max_length=254, blank=True)
    email_key = models.CharField(max_length=254, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    verification_level = models.CharField(
        max_length=20, choices=VerificationLevel.choices, default=VerificationLevel.NONE
    )
    verification = models.ForeignKey(
        "VerificationRecord", null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    name_shown = models.BooleanField(
        default=True, db_column="is_public", help_text="The signer lets the name be shown; withheld names still count."
    )
    hold_reason = models.CharField(max_length=30, choices=HoldReason.choices, blank=True, default="")
    rejection_reason = models.TextField(blank=True, help_text="Private.")
    public_removal_reason = models.CharField(max_length=200, blank=True)
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="merged_signatures", db_index=False
    )
    source = models.CharField(max_length=20, choices=Source.choices, default=Source.WEB)
    comment = models.TextField(blank=True, max_length=2000)
    ip_address = models.GenericIPAddressField(
        null=True, blank=True, help_text="Private; dropped after IP_RETENTION_DAYS (letters.services.privacy)."
    )
    # db_default too: rows written by bulk COPY (bench_seed) or SQL name no such column.
    ip_hash = models.CharField(
        max_length=64, blank=True, default="", db_default="", help_text="Private: keyed hash of the address."
    )
    ip_prefix_hash = models.CharField(
        max_length=64,
        blank=True,
        default="",
        db_default="",
        help_text="Private: keyed hash of its /24 (IPv4) or /64 (IPv6).",
    )
    emails_sent = models.PositiveSmallIntegerField(default=0)
    signed_at = models.DateTimeField()
    confirmed_at = models.DateTimeField(null=True, blank=True)
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    rejected_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = SignatureQuerySet.as_manager()

    class Meta:
        ordering = ["confirmed_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["public_id"], name="signature_public_id_unique"),
            models.UniqueConstraint(
                fields=["letter", "email_key"],
                condition=Q(status__in=["pending", "confirmed"]),
                name="signature_one_live_per_letter_email",
            ),
            models.CheckConstraint(
                condition=~Q(verification_level__in=LEVELS_WITH_RECORD) | Q(verification__isnull=False),
                name="signature_level_needs_record",
            ),
            models.CheckConstraint(
                condition=~Q(status="confirmed") | Q(confirmed_at__isnull=False),
                name="signature_confirmed_has_time",
            ),
            models.CheckConstraint(
                condition=Q(emails_sent__lte=5),
                name="signature_at_most_five_emails",
            ),
        ]
        indexes = [
            models.Index(fields=["letter", "status", "confirmed_at", "id"], name="signature_public_list_idx"),
            models.Index(fields=["letter", "organization", "confirmed_at"], name="signature_org_idx"),
            models.Index(fields=["letter", "confirmed_at", "id"], name="signature_confirmed_idx"),
            # Set only once a signature is confirmed, verified or merged: a pending insert skips these.
            models.Index(fields=["person"], name="signature_person_idx", condition=Q(person__isnull=False)),
            models.Index(
                fields=["organization"], name="signature_organization_idx", condition=Q(organization__isnull=False)
            ),
            models.Index(
                fields=["verification"], name="signature_verification_idx", condition=Q(verification__isnull=False)
            ),
            models.Index(
                fields=["merged_into"], name="signature_merged_into_idx", condition=Q(merged_into__isnull=False)
            ),
            # Confirmed signatures whose name is withheld (letters.withheld): a few rows of a big letter, grouped by
            # every stats and letter page rendering; without it each one scanned the whole letter. Covering (on
            # PostgreSQL), so the groups come from the index alone.
            models.Index(
                fields=["letter"],
                include=["verification_level", "organization", "organization_name", "hold_reason"],
                name="signature_withheld_idx",
                condition=Q(status="confirmed", name_shown=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_status_display()})"

    @property
    def is_held(self) -> bool:
        return bool(self.hold_reason)

    @property
    def is_visible(self) -> bool:
        """Part of the public list and count: confirmed and not held."""
        return self.status == self.Status.CONFIRMED and not self.hold_reason


class VerificationRecord(models.Model):
    """The evidence behind a verification level above `email`."""

    class Method(models.TextChoices):
        DOMAIN = "domain", "Email domain of the organization"
        MANUAL = "manual", "Manual check with evidence"
        INVITED = "invited", "Invitation from the organizers"
        IMPORT = "import", "Imported and vouched for by an organizer"

    signature = models.ForeignKey(Signature, on_delete=models.CASCADE, related_name="verification_records")
    level = models.CharField(max_length=20, choices=VerificationLevel.choices)
    method = models.CharField(max_length=20, choices=Method.choices)
    evidence = models.TextField(blank=True)
    evidence_url = models.URLField(blank=True)
    verifier = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    verified_at = models.DateTimeField()

    class Meta:
        ordering = ["-verified_at"]

    def __str__(self) -> str:
        return f"{self.level} by {self.method} at {self.verified_at:%Y-%m-%d}"


class SignatureEvent(models.Model):
    """Append-only history of a signature; public history is replayed from it.

    `visible_before`/`visible_after` and `level_before`/`level_after` record how the event changed the
    signature's membership of the public list, so counts and as-of lists need no other table.
    """

    class Kind(models.TextChoices):
        CREATED = "created", "Created"
        CONFIRMED = "confirmed", "Confirmed"
        VERIFIED = "verified", "Verified"
        HELD = "held", "Held"
        RELEASED = "released", "Released"
        REJECTED = "rejected", "Rejected"
        WITHDRAWN = "withdrawn", "Withdrawn"
        MERGED = "merged", "Merged"
        UNMERGED = "unmerged", "Unmerged"
        RESENT = "resent", "Confirmation resent"
        ORGANIZATION_CHANGED = "organization", "Organization changed"
        CORRECTED = "corrected", "Corrected"
        RECONSENTED = "reconsented", "Consented to a newer version"
        RESTORED = "restored", "Restored (a bulk invalidation undone)"

    signature = models.ForeignKey(Signature, on_delete=models.CASCADE, related_name="events", db_index=False)
    letter = models.ForeignKey(Letter, on_delete=models.CASCADE, related_name="signature_events", db_index=False)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    at = models.DateTimeField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    visible_before = models.BooleanField(default=False)
    visible_after = models.BooleanField(default=False)
    level_before = models.CharField(max_length=20, choices=VerificationLevel.choices, default="none")
    level_after = models.CharField(max_length=20, choices=VerificationLevel.choices, default="none")
    # The organization the public saw, as a count key (letters.presentation.organization_key), on each side the
    # signature was visible; NULL on the other side and on events recorded before these were kept.
    organization_before = models.CharField(max_length=220, null=True, blank=True)
    organization_after = models.CharField(max_length=220, null=True, blank=True)
    data = models.JSONField(default=dict, blank=True)
    recorded_at = models.DateTimeField(auto_now_add=True, help_text="When the row was written (`at` may be earlier).")

    class Meta:
        ordering = ["at", "id"]
        indexes = [
            models.Index(fields=["letter", "at", "id"], name="sigevent_letter_at_idx"),
            models.Index(fields=["letter", "id"], name="sigevent_letter_id_idx"),
            models.Index(fields=["signature", "at", "id"], name="sigevent_signature_at_idx"),
            models.Index(fields=["actor"], name="sigevent_actor_idx", condition=Q(actor__isnull=False)),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.kind} {self.signature_id}"


class SignatureToken(models.Model):
    class Purpose(models.TextChoices):
        CONFIRM = "confirm", "Confirm"
        WITHDRAW = "withdraw", "Withdraw"
        RECONSENT = "reconsent", "Consent to a newer version"

    signature = models.ForeignKey(Signature, on_delete=models.CASCADE, related_name="tokens")
    purpose = models.CharField(max_length=20, choices=Purpose.choices)
    token_hash = models.CharField(max_length=64, unique=True, help_text="SHA-256 of the token; the token is not kept.")
    expires_at = models.DateTimeField(null=True, blank=True)
    used_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.purpose} token for {self.signature_id}"


class OutboxMessage(models.Model):
    """An email written in the same transaction as the change that caused it; sent after commit."""

    class Kind(models.TextChoices):
        CONFIRM = "confirm", "Confirm your signature"
        ALREADY_SIGNED = "already_signed", "You have already signed"
        CONFIRMED = "confirmed", "Signature confirmed"
        RECONSENT = "reconsent", "The letter changed: consent to the new text or withdraw"
        RECEIPT = "receipt", "Your signature is in the public record"
        # Emails of the organizer side: composed when written, no signature (organizing.emails).
        ORGANIZER_INVITATION = "organizer_invitation", "Invitation to co-organize a letter"
        ACCOUNT = "account", "Account email (verification, password reset)"
        SIGNER_INVITATION = "signer_invitation", "Invitation to sign a letter"
        TRENDING_ALERT = "trending_alert", "Trending alert for moderators"

    signature = models.ForeignKey(
        Signature, null=True, on_delete=models.SET_NULL, related_name="outbox_messages", db_index=False
    )
    kind = models.CharField(max_length=30, choices=Kind.choices)
    version = models.ForeignKey(
        LetterVersion,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
        help_text="For a re-consent request: the material version it asks about.",
    )
    sequence = models.PositiveSmallIntegerField(default=1, help_text="Nth email of this kind for the signature.")
    to_email = models.EmailField(max_length=254)
    subject = models.CharField(max_length=300)
    body_text = models.TextField()
    body_html = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    message_id = models.CharField(
        max_length=200, blank=True, help_text="RFC 5322 Message-ID, made with the body and kept for every resend."
    )
    claimed_at = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True, help_text="After a failed try: when the next is due.")
    sent_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(
        null=True, blank=True, help_text="Undeliverable: attempts used up or the address refused for good."
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["signature", "kind", "sequence"], name="outbox_once_per_signature_kind"),
            models.CheckConstraint(
                condition=Q(sent_at__isnull=True) | Q(failed_at__isnull=True), name="outbox_sent_or_failed_not_both"
            ),
        ]
        indexes = [
            models.Index(
                fields=["next_attempt_at", "created_at"],
                name="outbox_waiting_idx",
                condition=Q(sent_at__isnull=True, failed_at__isnull=True),
            ),
            models.Index(fields=["failed_at"], name="outbox_failed_idx", condition=Q(failed_at__isnull=False)),
        ]

    def __str__(self) -> str:
        return f"{self.kind} #{self.sequence} for {self.signature_id}"


class IdempotencyRecord(models.Model):
    key = models.CharField(max_length=200)
    scope = models.CharField(max_length=200)
    request_hash = models.CharField(max_length=64)
    response_status = models.PositiveSmallIntegerField()
    response_body = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["scope", "key"], name="idempotency_scope_key_unique")]

    def __str__(self) -> str:
        return f"{self.scope}:{self.key}"
