from django import forms
from django.contrib import admin, messages

from registry.admin_review import DuplicateReviewMixin, OrganizationReviewMixin, PersonScanMixin
from registry.models import (
    Affiliation,
    AuditEvent,
    DedupScan,
    DuplicateCandidate,
    Organization,
    OrganizationAlias,
    OrganizationDomain,
    Person,
    PersonEmail,
    ProtectedName,
)
from registry.normalize import skeleton
from registry.protected import protected_name_save


class OrganizationAliasInline(admin.TabularInline):
    model = OrganizationAlias
    extra = 0
    fields = ["name", "name_key"]
    readonly_fields = ["name_key"]


class OrganizationDomainInline(admin.TabularInline):
    model = OrganizationDomain
    extra = 0


@admin.register(Organization)
class OrganizationAdmin(OrganizationReviewMixin, admin.ModelAdmin):
    list_display = ["name", "slug", "kind", "status", "website"]
    list_filter = ["status", "kind"]
    search_fields = ["name", "slug", "aliases__name", "domains__domain"]
    prepopulated_fields = {"slug": ["name"]}
    readonly_fields = ["review_links"]
    inlines = [OrganizationAliasInline, OrganizationDomainInline]


@admin.register(OrganizationAlias)
class OrganizationAliasAdmin(admin.ModelAdmin):
    list_display = ["name", "organization"]
    search_fields = ["name", "organization__name"]
    list_select_related = ["organization"]
    autocomplete_fields = ["organization"]


@admin.register(OrganizationDomain)
class OrganizationDomainAdmin(admin.ModelAdmin):
    list_display = ["domain", "organization", "verified"]
    list_filter = ["verified"]
    search_fields = ["domain", "organization__name"]
    list_select_related = ["organization"]
    autocomplete_fields = ["organization"]


class PersonEmailInline(admin.TabularInline):
    model = PersonEmail
    extra = 0


class AffiliationInline(admin.TabularInline):
    model = Affiliation
    extra = 0
    autocomplete_fields = ["organization"]


@admin.register(Person)
class PersonAdmin(PersonScanMixin, admin.ModelAdmin):
    list_display = ["display_name", "public_id", "merged_into", "created_at"]
    list_filter = [("merged_into", admin.EmptyFieldListFilter)]
    search_fields = ["display_name", "name_key", "public_id", "emails__email_key"]
    list_select_related = ["merged_into"]
    autocomplete_fields = ["merged_into"]
    readonly_fields = ["public_id", "created_at", "updated_at"]
    inlines = [PersonEmailInline, AffiliationInline]


@admin.register(PersonEmail)
class PersonEmailAdmin(admin.ModelAdmin):
    list_display = ["email_key", "person", "verified_at"]
    search_fields = ["email_key", "person__display_name"]
    list_select_related = ["person"]
    autocomplete_fields = ["person"]


@admin.register(Affiliation)
class AffiliationAdmin(admin.ModelAdmin):
    list_display = ["person", "title", "organization_name", "organization", "is_current", "source"]
    list_filter = ["is_current", "source"]
    search_fields = ["person__display_name", "organization_name", "title"]
    list_select_related = ["person", "organization"]
    autocomplete_fields = ["person", "organization"]


class ProtectedNameForm(forms.ModelForm):
    class Meta:
        model = ProtectedName
        fields = ["name", "note"]

    def clean_name(self):
        name = self.cleaned_data["name"]
        clash = ProtectedName.objects.filter(skeleton=skeleton(name)).exclude(pk=self.instance.pk).first()
        if clash is not None:
            raise forms.ValidationError(f"This name looks the same as the protected name {clash.name}.")
        return name


@admin.register(ProtectedName)
class ProtectedNameAdmin(admin.ModelAdmin):
    form = ProtectedNameForm
    list_display = ["name", "skeleton", "note", "created_at"]
    search_fields = ["name", "skeleton"]
    readonly_fields = ["skeleton"]

    def save_model(self, request, obj, form, change):
        held = protected_name_save(protected=obj, actor=request.user)
        if held:
            messages.warning(request, f"{held} public signature(s) matching this name are now held for review.")


@admin.register(DuplicateCandidate)
class DuplicateCandidateAdmin(DuplicateReviewMixin, admin.ModelAdmin):
    list_display = ["person_a", "person_b", "score", "reasons_text", "status", "created_at"]
    readonly_fields = ["comparison", "score", "reasons", "decided_by", "decided_at"]
    list_filter = ["status"]
    search_fields = ["person_a__display_name", "person_b__display_name"]
    list_select_related = ["person_a", "person_b"]
    autocomplete_fields = ["person_a", "person_b"]


@admin.register(DedupScan)
class DedupScanAdmin(admin.ModelAdmin):
    list_display = ["id", "status", "chunks_done", "chunks_total", "candidates_found", "started_at", "finished_at"]
    list_filter = ["status"]


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ["at", "action", "target_type", "target_id", "actor"]
    list_filter = ["action", "target_type"]
    search_fields = ["action", "target_id"]
    list_select_related = ["actor"]
    date_hierarchy = "at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
