from django import forms
from django.contrib import admin
from django.utils import timezone

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
from letters.services.corrections import CORRECTABLE, correction_errors, signature_correct
from letters.services.letter_input import body_errors, slug_errors, summary_errors, title_errors
from letters.services.letters import (
    LETTER_DETAILS,
    VERSION_KINDS,
    letter_create,
    letter_draft_update,
    letter_parties_record,
    letter_status_set,
    letter_update,
    letter_version_publish,
)
from letters.services.lifecycle import letter_schedule, publish_at_errors, transition_allowed
from letters.services.outbox import outbox_message_retry
from registry.admin import ReadOnlyAdminMixin


class ReadOnlyAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    pass


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
    readonly_fields = ("number", "kind", "note", "sha256", "published_at")
    fields = readonly_fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


class LetterAdminForm(forms.ModelForm):
    body = forms.CharField(
        strip=False,
        widget=forms.Textarea(attrs={"rows": 16}),
        help_text=(
            "Markdown. A draft's text is edited in place; once scheduled or open, a changed text is published as a "
            "new version of the kind chosen below."
        ),
    )
    version_kind = forms.ChoiceField(
        required=False,
        choices=[("", "—"), *((k.value, k.label) for k in VERSION_KINDS)],
        help_text="Needed when the text of a scheduled, open or paused letter changes.",
    )
    version_note = forms.CharField(required=False, max_length=500, help_text="What changed (public).")

    class Meta:
        model = Letter
        fields = ["slug", "title", "summary", "status", "publish_at"]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk and self.instance.current_version_id:
            self.fields["body"].initial = self.instance.current_version.body

    def clean_body(self) -> str:
        """Browsers send a textarea's lines ending in CR LF; the stored text ends them in LF."""
        return self.cleaned_data["body"].replace("\r\n", "\n")

    def clean(self) -> dict:
        """The services' own checks, as form errors (the services raise them too, but admin shows them here)."""
        data = super().clean() or {}
        stored = self.instance if self.instance.pk else None
        checks = {"title": title_errors(data.get("title", "")), "summary": summary_errors(data.get("summary", ""))}
        if "body" in data:
            checks["body"] = body_errors(data["body"])
        if stored is None and "slug" in data:
            checks["slug"] = slug_errors(data["slug"])
        current = stored.status if stored else Letter.Status.DRAFT
        status = data.get("status", current)
        if status != current and not transition_allowed(current=current, target=status):
            checks["status"] = [f"A {current} letter cannot become {status}."]
        moved = stored is None or status != current or data.get("publish_at") != stored.publish_at
        if status == Letter.Status.SCHEDULED and moved:
            checks["publish_at"] = publish_at_errors(data.get("publish_at"), now=timezone.now())
        text_changed = (
            stored is not None and stored.current_version_id and data.get("body") != stored.current_version.body
        )
        if text_changed and current != Letter.Status.DRAFT and not data.get("version_kind"):
            checks["version_kind"] = ["Say whether the change is editorial or material."]
        for field, messages in checks.items():
            for message in messages:
                self.add_error(field, message)
        return data


@admin.register(Letter)
class LetterAdmin(admin.ModelAdmin):
    """Every change goes through letters.services.letters (audit, version, status timestamps); nothing is saved here."""

    form = LetterAdminForm
    list_display = ["title", "slug", "status", "opened_at", "closed_at"]
    list_filter = ["status"]
    search_fields = ["title", "slug"]
    readonly_fields = ["current_version", "opened_at", "closed_at", "created_by", "created_at", "updated_at"]
    inlines = [LetterRecipientInline, LetterSponsorInline, LetterVersionInline]

    def get_readonly_fields(self, request, obj=None):
        return [*self.readonly_fields, "slug"] if obj is not None else self.readonly_fields

    def has_delete_permission(self, request, obj=None):
        return False  # signatures and history point at it

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if change:
            stored = Letter.objects.select_related("current_version").get(pk=obj.pk)  # obj holds the posted values
            changes = {f: data[f] for f in LETTER_DETAILS if f in form.changed_data}
            letter = letter_update(letter=stored, changes=changes, actor=request.user)
            current = stored.current_version
            if current is None or data["body"] != current.body:  # an unedited text publishes nothing
                if letter.status == Letter.Status.DRAFT:
                    letter_draft_update(letter=letter, changes={"body": data["body"]}, actor=request.user)
                else:
                    letter_version_publish(
                        letter=letter,
                        body=data["body"],
                        kind=data["version_kind"],
                        note=data.get("version_note", ""),
                        actor=request.user,
                    )
        else:
            letter = letter_create(
                slug=data["slug"],
                title=data["title"],
                summary=data["summary"],
                body=data["body"],
                created_by=request.user,
            )
        if data["status"] == Letter.Status.SCHEDULED:
            if letter.status != data["status"] or letter.publish_at != data["publish_at"]:
                letter_schedule(letter=letter, publish_at=data["publish_at"], actor=request.user)
        elif letter.status != data["status"]:
            letter_status_set(letter=letter, status=data["status"], actor=request.user)
        obj.pk, obj._state.adding = letter.pk, False
        obj.refresh_from_db()

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        if any(formset.has_changed() for formset in formsets):
            letter_parties_record(letter=form.instance, actor=request.user)


@admin.register(LetterVersion)
class LetterVersionAdmin(ReadOnlyAdmin):
    list_display = ["letter", "number", "kind", "sha256", "published_at"]
    list_select_related = ["letter"]
    search_fields = ["letter__slug", "sha256"]


class SignatureEventInline(admin.TabularInline):
    model = SignatureEvent
    extra = 0
    can_delete = False
    readonly_fields = ("at", "kind", "actor", "visible_before", "visible_after", "level_before", "level_after", "data")
    fields = readonly_fields
    ordering = ["at", "id"]

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class VerificationRecordInline(admin.TabularInline):
    model = VerificationRecord
    extra = 0
    can_delete = False
    readonly_fields = ("level", "method", "evidence", "evidence_url", "verifier", "verified_at")
    fields = readonly_fields

    def has_add_permission(self, request, obj=None):
        return False


class SignatureAdminForm(forms.ModelForm):
    correction_reason = forms.CharField(
        required=False,
        help_text="Needed when you correct the name, title or organization: the correction is recorded as an event, "
        "and lists as of earlier instants keep the old text.",
    )

    class Meta:
        model = Signature
        fields = list(CORRECTABLE)

    def clean(self):
        """The service's own checks, shown on the form's fields instead of failing the save."""
        super().clean()
        cleaned = self.cleaned_data
        changes = {field: cleaned.get(field, "") for field in CORRECTABLE if field in self.changed_data}
        if changes:
            _values, errors = correction_errors(changes, cleaned.get("correction_reason", ""))
            for field, messages in errors.items():
                self.add_error(field if field in self.fields else "correction_reason", messages)
        return cleaned


@admin.register(Signature)
class SignatureAdmin(SignatureReviewMixin, admin.ModelAdmin):
    """Only the typed text is editable, through letters.services.corrections; everything else has its own service
    (review actions: verify, hold, release, reject; merges; withdrawal) and is read-only here."""

    form = SignatureAdminForm
    list_display = [
        "name",
        "organization_name",
        "letter",
        "status",
        "verification_level",
        "hold_reason",
        "name_shown",
        "confirmed_at",
    ]
    list_filter = [ReviewQueueFilter, "status", "verification_level", "hold_reason", "source", "name_shown", "letter"]
    search_fields = ["name", "organization_name", "title", "email_key", "public_id"]
    list_select_related = ["letter", "organization", "person"]
    date_hierarchy = "signed_at"
    readonly_fields = [
        "review_links",
        "public_id",
        "letter",
        "version",
        "person",
        "organization",
        "email",
        "email_key",
        "status",
        "verification_level",
        "verification",
        "hold_reason",
        "name_shown",
        "comment",
        "rejection_reason",
        "public_removal_reason",
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

    def has_delete_permission(self, request, obj=None):
        return False  # withdrawal and rejection are the ways out, and both keep history

    def save_model(self, request, obj, form, change):
        changes = {field: form.cleaned_data[field] for field in CORRECTABLE if field in form.changed_data}
        if changes:
            signature_correct(
                signature=obj, changes=changes, reason=form.cleaned_data["correction_reason"], actor=request.user
            )
        obj.refresh_from_db()


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
    list_display = ["letter", "public", "verified", "withdrawn", "rejected", "name_withheld", "counted_at"]
    list_select_related = ["letter"]


@admin.register(LetterCountBucket)
class LetterCountBucketAdmin(ReadOnlyAdmin):
    list_display = ["letter", "span", "start", "added", "removed"]
    list_filter = ["letter"]
    list_select_related = ["letter"]
