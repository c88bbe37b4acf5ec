from django.contrib import admin

from letters.admin_review import ReviewQueueFilter, SignatureReviewMixin
from letters.models import (
    IdempotencyRecord,
    Letter,
    LetterCount,
    LetterCountBucket,
    LetterRecipient,
    LetterSponsor,
    LetterVersion,
    OutboxMessage,
    Signature,
    SignatureEvent,
    SignatureToken,
    VerificationRecord,
)
from letters.services.outbox import outbox_message_retry


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class LetterRecipientInline(admin.TabularInline):
    model = LetterRecipient
    extra = 0


class LetterSponsorInline(admin.TabularInline):
    model = LetterSponsor
    extra = 0
    autocomplete_fields = ["organization"]


class LetterVersionInline(admin.TabularInline):
    model = LetterVersion
    extra = 0
    fields = ["number", "sha256", "published_at"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Letter)
class LetterAdmin(admin.ModelAdmin):
    list_display = ["title", "slug", "status", "opened_at", "closed_at"]
    list_filter = ["status"]
    search_fields = ["title", "slug"]
    readonly_fields = ["current_version", "opened_at", "closed_at", "created_by", "created_at", "updated_at"]
    inlines = [LetterRecipientInline, LetterSponsorInline, LetterVersionInline]


@admin.register(LetterVersion)
class LetterVersionAdmin(ReadOnlyAdmin):
    list_display = ["letter", "number", "sha256", "published_at"]
    list_select_related = ["letter"]
    search_fields = ["letter__slug", "sha256"]


class SignatureEventInline(admin.TabularInline):
    model = SignatureEvent
    extra = 0
    can_delete = False
    fields = ["at", "kind", "actor", "visible_before", "visible_after", "level_before", "level_after", "data"]
    readonly_fields = fields
    ordering = ["at", "id"]

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class VerificationRecordInline(admin.TabularInline):
    model = VerificationRecord
    extra = 0
    can_delete = False
    fields = ["level", "method", "evidence", "evidence_url", "verifier", "verified_at"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Signature)
class SignatureAdmin(SignatureReviewMixin, admin.ModelAdmin):
    list_display = [
        "name",
        "organization_name",
        "letter",
        "status",
        "verification_level",
        "hold_reason",
        "is_public",
        "confirmed_at",
    ]
    list_filter = [ReviewQueueFilter, "status", "verification_level", "hold_reason", "source", "is_public", "letter"]
    search_fields = ["name", "organization_name", "title", "email_key", "public_id"]
    list_select_related = ["letter", "organization", "person"]
    autocomplete_fields = ["person", "organization"]
    date_hierarchy = "signed_at"
    readonly_fields = [
        "review_links",
        "public_id",
        "letter",
        "version",
        "email",
        "email_key",
        "status",
        "verification_level",
        "verification",
        "hold_reason",
        "merged_into",
        "source",
        "ip_address",
        "emails_sent",
        "signed_at",
        "confirmed_at",
        "withdrawn_at",
        "rejected_at",
        "updated_at",
    ]
    inlines = [VerificationRecordInline, SignatureEventInline]

    def has_add_permission(self, request):
        return False


@admin.register(SignatureEvent)
class SignatureEventAdmin(ReadOnlyAdmin):
    list_display = ["at", "kind", "signature", "letter", "visible_before", "visible_after", "level_after"]
    list_filter = ["kind", "letter"]
    list_select_related = ["signature", "letter"]
    date_hierarchy = "at"


@admin.register(VerificationRecord)
class VerificationRecordAdmin(ReadOnlyAdmin):
    list_display = ["signature", "level", "method", "verifier", "verified_at"]
    list_filter = ["level", "method"]
    list_select_related = ["signature", "verifier"]


@admin.register(SignatureToken)
class SignatureTokenAdmin(ReadOnlyAdmin):
    list_display = ["signature", "purpose", "expires_at", "used_at", "created_at"]
    list_filter = ["purpose"]
    list_select_related = ["signature"]
    exclude = ["token_hash"]


class DeliveryStateFilter(admin.SimpleListFilter):
    title = "delivery"
    parameter_name = "delivery"

    def lookups(self, request, model_admin):
        return [("waiting", "Waiting"), ("retrying", "Retrying"), ("sent", "Sent"), ("undeliverable", "Undeliverable")]

    def queryset(self, request, queryset):
        if self.value() == "waiting":
            return queryset.filter(sent_at=None, failed_at=None)
        if self.value() == "retrying":
            return queryset.filter(sent_at=None, failed_at=None, attempts__gt=0)
        if self.value() == "sent":
            return queryset.filter(sent_at__isnull=False)
        if self.value() == "undeliverable":
            return queryset.filter(failed_at__isnull=False)
        return queryset


@admin.register(OutboxMessage)
class OutboxMessageAdmin(ReadOnlyAdmin):
    list_display = [
        "kind",
        "sequence",
        "signature",
        "created_at",
        "sent_at",
        "failed_at",
        "attempts",
        "next_attempt_at",
        "last_error",
    ]
    list_filter = [DeliveryStateFilter, "kind"]
    list_select_related = ["signature"]
    exclude = ["body_text", "body_html"]
    actions = ["retry_undeliverable"]

    @admin.action(description="Try undeliverable messages again now")
    def retry_undeliverable(self, request, queryset):
        failed = queryset.filter(failed_at__isnull=False)
        retried = sum(outbox_message_retry(message=m, actor=request.user) for m in failed)
        self.message_user(request, f"{retried} message(s) will be tried again.")


@admin.register(IdempotencyRecord)
class IdempotencyRecordAdmin(ReadOnlyAdmin):
    list_display = ["scope", "key", "response_status", "created_at"]
    search_fields = ["key"]


@admin.register(LetterCount)
class LetterCountAdmin(ReadOnlyAdmin):
    list_display = ["letter", "public", "verified", "withdrawn", "removed", "name_withheld", "counted_at"]
    list_select_related = ["letter"]


@admin.register(LetterCountBucket)
class LetterCountBucketAdmin(ReadOnlyAdmin):
    list_display = ["letter", "minute", "added", "removed"]
    list_filter = ["letter"]
    list_select_related = ["letter"]
