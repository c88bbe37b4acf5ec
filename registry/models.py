"""People, organizations, affiliations, protected names, duplicate candidates and the audit log."""

import secrets

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone


def new_public_id() -> str:
    """An opaque, URL-safe public identifier (96 random bits) that starts with a letter or digit.

    A leading "-" would read as a formula in spreadsheets and as an option on command lines.
    """
    while True:
        candidate = secrets.token_urlsafe(12)
        if candidate[0].isalnum():
            return candidate


class Organization(models.Model):
    class Kind(models.TextChoices):
        COMPANY = "company", "Company"
        NONPROFIT = "nonprofit", "Non-profit"
        ACADEMIC = "academic", "Academic"
        GOVERNMENT = "government", "Government"
        OTHER = "other", "Other"

    class Status(models.TextChoices):
        REVIEWED = "reviewed", "Reviewed"
        CANDIDATE = "candidate", "Candidate (unreviewed)"

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=200, unique=True)
    name_key = models.CharField(max_length=200, unique=True, help_text="Normalized name used for linking.")
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.COMPANY)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.REVIEWED)
    website = models.URLField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        indexes = [models.Index(fields=["status", "name"], name="org_status_name_idx")]

    def __str__(self) -> str:
        return self.name


class OrganizationAlias(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="aliases")
    name = models.CharField(max_length=200)
    name_key = models.CharField(max_length=200, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "organization aliases"

    def __str__(self) -> str:
        return f"{self.name} → {self.organization_id}"


class OrganizationDomain(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="domains")
    domain = models.CharField(max_length=253, unique=True, help_text="Lowercase, IDNA-encoded email domain.")
    verified = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["domain"]

    def __str__(self) -> str:
        return self.domain


class Person(models.Model):
    # An import writes one person a row: the indexes are declared in Meta, so that PostgreSQL gets no LIKE
    # (varchar_pattern_ops) twin of each (nothing reads these columns by prefix; `name_key__contains` has a leading
    # wildcard, which no btree serves), and the self-reference is indexed only where it is set.
    public_id = models.CharField(max_length=24, default=new_public_id, editable=False)
    display_name = models.CharField(max_length=200)
    sort_name = models.CharField(max_length=200, blank=True)
    name_key = models.CharField(max_length=200, help_text="Normalized name for matching.")
    name_skeleton = models.CharField(max_length=200, blank=True)
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="merged_people", db_index=False
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["sort_name", "id"]
        verbose_name_plural = "people"
        constraints = [
            models.UniqueConstraint(fields=["public_id"], name="person_public_id_unique"),
            models.CheckConstraint(
                condition=Q(merged_into__isnull=True) | ~Q(merged_into=F("pk")), name="person_not_merged_into_self"
            ),
        ]
        indexes = [
            models.Index(fields=["sort_name"], name="person_sort_name_idx"),
            models.Index(fields=["name_key"], name="person_name_key_idx"),
            models.Index(fields=["name_skeleton"], name="person_name_skeleton_idx"),
            models.Index(fields=["merged_into"], name="person_merged_into_idx", condition=Q(merged_into__isnull=False)),
        ]

    def __str__(self) -> str:
        return self.display_name


class PersonEmail(models.Model):
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="emails")
    email = models.EmailField(max_length=254)
    email_key = models.CharField(max_length=254)  # unique by the constraint below, with no LIKE index beside it
    verified_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["email_key"]
        constraints = [models.UniqueConstraint(fields=["email_key"], name="person_email_key_unique")]

    def __str__(self) -> str:
        return self.email_key


class Affiliation(models.Model):
    class Source(models.TextChoices):
        SIGNATURE = "signature", "As signed"
        ADMIN = "admin", "Entered by an admin"
        IMPORT = "import", "Imported"

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="affiliations")
    organization = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.SET_NULL, related_name="affiliations"
    )
    organization_name = models.CharField(max_length=200, blank=True, help_text="The organization text as given.")
    title = models.CharField(max_length=200, blank=True)
    is_current = models.BooleanField(default=True)
    source = models.CharField(max_length=20, choices=Source.choices, default=Source.SIGNATURE)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-is_current", "-created_at"]

    def __str__(self) -> str:
        return f"{self.title}, {self.organization_name}".strip(", ")


class ProtectedName(models.Model):
    """A name that is held for manual verification when someone signs with it (or a look-alike)."""

    name = models.CharField(max_length=200)
    skeleton = models.CharField(max_length=200, unique=True)
    note = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class DuplicateCandidate(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", "Open"
        MERGED = "merged", "Merged"
        DISMISSED = "dismissed", "Dismissed"

    person_a = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="+")
    person_b = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="+")
    score = models.FloatField()
    reasons = models.JSONField(default=list)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.OPEN)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-score", "id"]
        constraints = [
            models.UniqueConstraint(fields=["person_a", "person_b"], name="duplicate_pair_unique"),
            models.CheckConstraint(condition=Q(person_a__lt=F("person_b")), name="duplicate_pair_ordered"),
        ]
        indexes = [models.Index(fields=["status", "-score"], name="duplicate_status_score_idx")]

    def __str__(self) -> str:
        return f"{self.person_a_id} ~ {self.person_b_id} ({self.score:.2f})"


class PersonBlockKey(models.Model):
    """Derived index of dedup: each blocking key of a live person (registry.dedup.blocking), and its term-frequency
    keys ("tf:given:…"), so the check at confirmation finds a person's blocks, and how many share each key, without
    reading the whole registry. Kept by registry.duplicate_scans (refreshed when a person changes, reconciled by
    every whole scan); not an audited state: it is recomputed from the people it describes."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=600)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["key", "person"], name="person_block_key_unique")]

    def __str__(self) -> str:
        return f"{self.person_id}: {self.key}"


class DuplicateCheckRequest(models.Model):
    """A person waiting for the duplicate check (registry.duplicate_scans.duplicates_check_requested): written in the
    transaction that confirmed one of their signatures, deleted by the check that read it, in the check's own
    transaction. A crash anywhere in between leaves the row, so the next run checks that person; a person confirmed
    again while being checked gets a new row, checked by the next run. Checks run in ascending id."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="+")
    requested_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"Check person {self.person_id} (asked {self.requested_at:%Y-%m-%d %H:%M:%S})"


class DedupScan(models.Model):
    """A whole-registry duplicate scan, split into chunks that several workers share."""

    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    status = models.CharField(max_length=20, choices=Status.choices, default=Status.RUNNING)
    chunks_total = models.PositiveIntegerField(default=0)
    chunks_done = models.PositiveIntegerField(default=0)
    candidates_found = models.PositiveIntegerField(default=0)
    # Duplicates per person the scan estimated from the registry (registry.dedup.prior), set by its first chunk: the
    # prior its chunks, and later the checks at confirmation and the import previews, score with.
    duplicates_per_person = models.FloatField(null=True, blank=True)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"Scan {self.pk}: {self.chunks_done}/{self.chunks_total}"


class AuditEvent(models.Model):
    """One row per state change, written by services inside their transaction."""

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    action = models.CharField(max_length=100, help_text="Namespaced, e.g. letters.signature.confirmed")
    target_type = models.CharField(max_length=100)
    target_id = models.CharField(max_length=64)
    data = models.JSONField(default=dict, blank=True)
    at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["-at", "-id"]
        # Every signature writes a row here: indexes are the few the admin reads by (no LIKE index on action, and
        # actors only where there is one).
        indexes = [
            models.Index(fields=["target_type", "target_id"], name="audit_target_idx"),
            models.Index(fields=["action"], name="audit_action_idx"),
            models.Index(fields=["actor"], name="audit_actor_idx", condition=models.Q(actor__isnull=False)),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.action} {self.target_type}:{self.target_id}"
