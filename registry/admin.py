from django import forms
from django.contrib import admin, messages

from registry.admin_review import DuplicateReviewMixin, OrganizationReviewMixin, PersonScanMixin
from registry.emails import domain_normalize
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
from registry.normalize import organization_name_key, skeleton
from registry.protected import protected_name_remove, protected_name_save
from registry.services import (
    organization_alias_add,
    organization_alias_remove,
    organization_create,
    organization_domain_add,
    organization_domain_remove,
    organization_name_clash,
    organization_update,
    person_rename,
)

# The admin writes registry rows only through registry.services (each write audited there); what no service writes
# is shown read-only.


class ReadOnlyAdminMixin:
    """Listed, searched and viewed; written elsewhere (confirmations, merges, scans)."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


def _organization_name_checked(name: str, organization: Organization | None) -> str:
    if not organization_name_key(name):
        raise forms.ValidationError("The name needs letters or digits.")
    clash = organization_name_clash(name=name, exclude=organization)
    if clash is not None:
        raise forms.ValidationError(f"Text typed so links to {clash} already.")
    return name


class OrganizationForm(forms.ModelForm):
    class Meta:
        model = Organization
        fields = ["name", "slug", "kind", "website"]

    def clean_name(self):
        return _organization_name_checked(self.cleaned_data["name"], self.instance if self.instance.pk else None)


class OrganizationAliasForm(forms.ModelForm):
    class Meta:
        model = OrganizationAlias
        fields = ["organization", "name"]

    def clean_name(self):
        organization = self.cleaned_data.get("organization") or getattr(self.instance, "organization", None)
        return _organization_name_checked(self.cleaned_data["name"], organization)


class OrganizationDomainForm(forms.ModelForm):
    class Meta:
        model = OrganizationDomain
        fields = ["organization", "domain", "verified"]

    def clean_domain(self):
        return domain_normalize(self.cleaned_data["domain"])


class OrganizationAliasInline(admin.TabularInline):
    """Aliases are added or removed (audited), never edited in place."""

    model = OrganizationAlias
    form = OrganizationAliasForm
    extra = 0
    fields = ["name", "name_key"]
    readonly_fields = ["name_key"]

    def has_change_permission(self, request, obj=None):
        return False


class OrganizationDomainInline(admin.TabularInline):
    """Domains are added (a verified one proves its signers) or removed, never edited in place."""

    model = OrganizationDomain
    form = OrganizationDomainForm
    extra = 0
    fields = ["domain", "verified"]

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Organization)
class OrganizationAdmin(OrganizationReviewMixin, admin.ModelAdmin):
    """Descriptive fields through organization_update; the slug (counts are keyed by it) and the status (the approve
    action) are read-only once created; aliases and domains through their services; never deleted (history
    refers to it)."""

    form = OrganizationForm
    list_display = ["name", "slug", "kind", "status", "website"]
    list_filter = ["status", "kind"]
    search_fields = ["name", "slug", "aliases__name", "domains__domain"]
    inlines = [OrganizationAliasInline, OrganizationDomainInline]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ["review_links"]
        return ["slug", "name_key", "status", "created_at", "updated_at", "review_links"]

    def get_prepopulated_fields(self, request, obj=None):
        return {"slug": ["name"]} if obj is None else {}

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        if change:
            changes = {field: form.cleaned_data[field] for field in form.changed_data}
            organization_update(organization=obj, changes=changes, actor=request.user)
        else:
            organization_create(organization=obj, actor=request.user)

    def save_formset(self, request, form, formset, change):
        added = formset.save(commit=False)  # collects the rows; the services below write them
        organization = form.instance
        for row in formset.deleted_objects:
            if isinstance(row, OrganizationAlias):
                organization_alias_remove(alias=row, actor=request.user)
            else:
                organization_domain_remove(domain=row, actor=request.user)
        for row in added:
            if isinstance(row, OrganizationAlias):
                organization_alias_add(organization=organization, name=row.name, actor=request.user)
            else:
                organization_domain_add(
                    organization=organization, domain=row.domain, verified=row.verified, actor=request.user
                )


@admin.register(OrganizationAlias)
class OrganizationAliasAdmin(admin.ModelAdmin):
    """Added and removed through the services (audited); an alias is never edited in place."""

    form = OrganizationAliasForm
    list_display = ["name", "organization"]
    search_fields = ["name", "organization__name"]
    list_select_related = ["organization"]
    autocomplete_fields = ["organization"]

    def has_change_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        obj.pk = organization_alias_add(organization=obj.organization, name=obj.name, actor=request.user).pk

    def delete_model(self, request, obj):
        organization_alias_remove(alias=obj, actor=request.user)

    def delete_queryset(self, request, queryset):
        for alias in queryset.select_related("organization"):
            organization_alias_remove(alias=alias, actor=request.user)


@admin.register(OrganizationDomain)
class OrganizationDomainAdmin(admin.ModelAdmin):
    """Added, moved or re-flagged through organization_domain_add (normalized, audited; a newly verified domain
    proves its signers); removed through organization_domain_remove (levels it proved stay)."""

    form = OrganizationDomainForm
    list_display = ["domain", "organization", "verified"]
    list_filter = ["verified"]
    search_fields = ["domain", "organization__name"]
    list_select_related = ["organization"]
    autocomplete_fields = ["organization"]

    def get_readonly_fields(self, request, obj=None):
        return ["created_at"] if obj is None else ["domain", "created_at"]

    def save_model(self, request, obj, form, change):
        record = organization_domain_add(
            organization=obj.organization, domain=obj.domain, verified=obj.verified, actor=request.user
        )
        obj.pk = record.pk

    def delete_model(self, request, obj):
        organization_domain_remove(domain=obj, actor=request.user)

    def delete_queryset(self, request, queryset):
        for domain in queryset.select_related("organization"):
            organization_domain_remove(domain=domain, actor=request.user)


class PersonEmailInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = PersonEmail
    extra = 0


class AffiliationInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = Affiliation
    extra = 0


# Derived from the display name by person_rename, or written by merges.
READ_ONLY_PERSON_FIELDS = [
    "public_id",
    "sort_name",
    "name_key",
    "name_skeleton",
    "merged_into",
    "created_at",
    "updated_at",
]


@admin.register(Person)
class PersonAdmin(PersonScanMixin, admin.ModelAdmin):
    """Only the display name is edited here (person_rename). Merges happen in the duplicate review and are undone by
    the unmerge action; emails and affiliations are written by confirmations and merges; people are never deleted
    (history refers to them)."""

    list_display = ["display_name", "public_id", "merged_into", "created_at"]
    list_filter = [("merged_into", admin.EmptyFieldListFilter)]
    search_fields = ["display_name", "name_key", "public_id", "emails__email_key"]
    list_select_related = ["merged_into"]
    fields = ["display_name", *READ_ONLY_PERSON_FIELDS]
    readonly_fields = READ_ONLY_PERSON_FIELDS
    inlines = [PersonEmailInline, AffiliationInline]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        if "display_name" in form.changed_data:
            person_rename(person=obj, name=form.cleaned_data["display_name"], actor=request.user)


@admin.register(PersonEmail)
class PersonEmailAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["email_key", "person", "verified_at"]
    search_fields = ["email_key", "person__display_name"]
    list_select_related = ["person"]


@admin.register(Affiliation)
class AffiliationAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["person", "title", "organization_name", "organization", "is_current", "source"]
    list_filter = ["is_current", "source"]
    search_fields = ["person__display_name", "organization_name", "title"]
    list_select_related = ["person", "organization"]


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

    def delete_model(self, request, obj):
        protected_name_remove(protected=obj, actor=request.user)

    def delete_queryset(self, request, queryset):
        for protected in queryset:
            protected_name_remove(protected=protected, actor=request.user)


CANDIDATE_FIELDS = ["comparison", "person_a", "person_b", "score", "reasons", "status", "decided_by", "decided_at"]


@admin.register(DuplicateCandidate)
class DuplicateCandidateAdmin(DuplicateReviewMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    """Viewed only: candidates come from scans, decisions go through merge and dismiss (the decide page, actions)."""

    list_display = ["person_a", "person_b", "score", "reasons_text", "status", "created_at"]
    fields = [*CANDIDATE_FIELDS]
    readonly_fields = CANDIDATE_FIELDS
    list_filter = ["status"]
    search_fields = ["person_a__display_name", "person_b__display_name"]
    list_select_related = ["person_a", "person_b"]


@admin.register(DedupScan)
class DedupScanAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "id",
        "status",
        "chunks_done",
        "chunks_total",
        "candidates_found",
        "duplicates_per_person",
        "started_at",
        "finished_at",
    ]
    list_filter = ["status"]


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["at", "action", "target_type", "target_id", "actor"]
    list_filter = ["action", "target_type"]
    search_fields = ["action", "target_id"]
    list_select_related = ["actor"]
    date_hierarchy = "at"
