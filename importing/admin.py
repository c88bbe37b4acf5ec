"""Admin for imports and signer invitations: read-only, with actions that go through importing's services (audited,
the same rules as the organizer pages). Organizers run imports and invite from /manage/."""

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from importing.invitations import InvitationNotAllowed, invitation_revoke
from importing.models import SignatureImport, SignerInvitation
from importing.services import ImportNotAllowed, import_undo
from registry.admin import ReadOnlyAdminMixin


@admin.register(SignatureImport)
class SignatureImportAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["filename", "letter", "status", "mode", "rows_total", "rows_done", "rows_created", "created_at"]
    list_filter = ["status", "mode"]
    search_fields = ["public_id", "filename", "sha256", "letter__slug"]
    list_select_related = ["letter"]
    exclude = ["content", "checked"]
    actions = ["undo"]

    @admin.action(description="Undo the selected finished imports (their still-live signatures leave the letter)")
    def undo(self, request: HttpRequest, queryset: QuerySet[SignatureImport]) -> None:
        for signature_import in queryset:
            try:
                removed = import_undo(signature_import=signature_import, actor=request.user)
            except ImportNotAllowed as exc:
                self.message_user(request, f"{signature_import}: {exc.message}", messages.WARNING)
            else:
                self.message_user(request, f"{signature_import}: {removed} signatures removed.")


@admin.register(SignerInvitation)
class SignerInvitationAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["name", "email", "letter", "state", "reminders_sent", "created_at", "expires_at"]
    list_filter = ["signed_at", "declined_at", "revoked_at"]
    search_fields = ["public_id", "email_key", "name", "letter__slug"]
    list_select_related = ["letter", "message"]
    exclude = ["token_hash"]
    actions = ["revoke"]

    @admin.action(description="Revoke the selected invitations (their links stop working)")
    def revoke(self, request: HttpRequest, queryset: QuerySet[SignerInvitation]) -> None:
        for invitation in queryset:
            try:
                invitation_revoke(invitation=invitation, actor=request.user)
            except InvitationNotAllowed as exc:
                self.message_user(request, f"{invitation}: {exc.message}", messages.WARNING)
