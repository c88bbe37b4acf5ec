"""Admin for memberships and co-organizer invitations: every change goes through organizing.services (audited, the
same role rules as the pages: a staff user acts here only with two-factor login set up, and a letter keeps an
owner). Invitations are read-only here but for revoking; owners invite from the members page."""

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest

from organizing.models import Membership, OrganizerInvitation
from organizing.permissions import MANAGE_MEMBERS, can, has_second_factor
from organizing.services import (
    membership_add,
    membership_change_refusal,
    membership_remove,
    membership_role_change,
    organizer_invitation_revoke,
)
from registry.admin import ReadOnlyAdminMixin


class MembershipAdminForm(forms.ModelForm):
    class Meta:
        model = Membership
        fields = ["letter", "user", "role"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "user" in self.fields:
            self.fields["user"].queryset = get_user_model().objects.filter(is_active=True)  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.instance.pk and "role" in data:
            stored = Membership.objects.get(pk=self.instance.pk)
            refusal = membership_change_refusal(membership=stored, role=data["role"])
            if refusal:
                self.add_error("role", refusal)
        return data


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    form = MembershipAdminForm
    list_display = ["letter", "user", "role", "created_at"]
    list_filter = ["role"]
    search_fields = ["letter__slug", "letter__title", "user__email", "user__username"]
    list_select_related = ["letter", "user"]
    autocomplete_fields = ["letter", "user"]
    readonly_fields = ["added_by", "created_at", "updated_at"]

    def get_readonly_fields(self, request: HttpRequest, obj: Membership | None = None) -> list[str]:
        fields = list(self.readonly_fields)
        return [*fields, "letter", "user"] if obj is not None else fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return super().has_add_permission(request) and has_second_factor(request.user)

    def has_change_permission(self, request: HttpRequest, obj: Membership | None = None) -> bool:
        allowed = super().has_change_permission(request, obj)
        return allowed and (obj is None or can(request.user, MANAGE_MEMBERS, obj.letter))

    def has_delete_permission(self, request: HttpRequest, obj: Membership | None = None) -> bool:
        if not super().has_delete_permission(request, obj):
            return False
        if obj is None:
            return True
        refusal = membership_change_refusal(membership=obj, role=None)
        return can(request.user, MANAGE_MEMBERS, obj.letter) and not refusal

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # one at a time, so the last-owner rule is shown, not a 500
        return actions

    def save_model(self, request: HttpRequest, obj: Membership, form: forms.ModelForm, change: bool) -> None:
        if change:
            stored = Membership.objects.select_related("letter").get(pk=obj.pk)
            membership_role_change(membership=stored, role=form.cleaned_data["role"], actor=request.user)
        else:
            data = form.cleaned_data
            obj.pk = membership_add(letter=data["letter"], user=data["user"], role=data["role"], actor=request.user).pk

    def delete_model(self, request: HttpRequest, obj: Membership) -> None:
        membership_remove(membership=Membership.objects.select_related("letter").get(pk=obj.pk), actor=request.user)


@admin.register(OrganizerInvitation)
class OrganizerInvitationAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["letter", "email", "role", "invited_by", "created_at", "expires_at", "accepted_at", "revoked_at"]
    list_filter = ["role"]
    search_fields = ["letter__slug", "email"]
    list_select_related = ["letter", "invited_by"]
    exclude = ["token_hash"]
    actions = ["revoke"]

    @admin.action(description="Revoke the selected pending invitations")
    def revoke(self, request: HttpRequest, queryset: QuerySet[OrganizerInvitation]) -> None:
        revoked = 0
        for invitation in queryset.select_related("letter"):
            try:
                organizer_invitation_revoke(invitation=invitation, actor=request.user)
            except (ValidationError, PermissionDenied) as exc:
                messages.warning(request, f"{invitation.public_id}: {' '.join(getattr(exc, 'messages', [str(exc)]))}")
            else:
                revoked += 1
        if revoked:
            messages.success(request, f"{revoked} invitation(s) revoked.")
