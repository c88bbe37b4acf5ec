"""A letter's members and co-organizer invitations (/manage/<slug>/members/) and the page an invitation link opens
(/manage/invitations/<token>/). Letters come through letter_for_member (`member_page`): a non-member gets 404; a
member or invitation id of another letter is 404 too. Each action is a POST form (no JavaScript); the services check
the role again (owners manage members, any member may leave) and refuse to leave a letter without an owner."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, register_converter, reverse
from django.urls.converters import StringConverter
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from config import converters  # noqa: F401  registers <num:…>
from letters.models import Letter
from organizing.models import Role
from organizing.permissions import MANAGE_MEMBERS, VIEW_LETTER, can, member_role, second_factor_recommended
from organizing.selectors import (
    invitation_by_token,
    invitation_of_letter,
    invitation_unusable_reason,
    invitations_pending,
    members_of_letter,
    membership_of_letter,
)
from organizing.services import (
    membership_remove,
    membership_role_change,
    organizer_invitation_accept,
    organizer_invitation_create,
    organizer_invitation_revoke,
)
from web.manage_forms import errors_onto
from web.views.manage import member_page, refused


class InvitationTokenConverter(StringConverter):
    """secrets.token_urlsafe(32): 43 URL-safe characters (a few more allowed); "members" or a slug never matches."""

    regex = "[A-Za-z0-9_-]{40,64}"


register_converter(InvitationTokenConverter, "invitation_token")


class InviteForm(forms.Form):
    email = forms.EmailField(label="Email address", max_length=254)
    role = forms.ChoiceField(label="Role", choices=Role.choices, initial=Role.EDITOR)


class RoleForm(forms.Form):
    role = forms.ChoiceField(label="Role", choices=Role.choices)


def members_url(letter: Letter) -> str:
    return reverse("manage-members", kwargs={"slug": letter.slug})


def _members_page(
    request: HttpRequest, letter: Letter, invite: InviteForm | None = None, status: int = 200
) -> HttpResponse:
    manage = can(request.user, MANAGE_MEMBERS, letter)
    context = {
        "letter": letter,
        "members": members_of_letter(letter=letter),
        "invitations": invitations_pending(letter=letter) if manage else [],
        "may_manage": manage,
        "role": member_role(request.user, letter),
        "roles": Role.choices,
        "invite": invite or InviteForm(),
        "second_factor_recommended": second_factor_recommended(request.user),
    }
    return render(request, "web/manage/members.html", context, status=status)


@member_page(VIEW_LETTER)
@require_http_methods(["GET"])
def members(request: HttpRequest, letter: Letter) -> HttpResponse:
    return _members_page(request, letter)


@member_page(MANAGE_MEMBERS)
@require_POST
def member_invite(request: HttpRequest, letter: Letter) -> HttpResponse:
    form = InviteForm(request.POST)
    if form.is_valid():
        try:
            organizer_invitation_create(
                letter=letter, email=form.cleaned_data["email"], role=form.cleaned_data["role"], actor=request.user
            )
        except ValidationError as exc:
            errors_onto(form, exc)
        else:
            messages.success(
                request, f"Invitation sent to {form.cleaned_data['email']}. The link works once, for a week."
            )
            return redirect(members_url(letter))
    return _members_page(request, letter, invite=form, status=400)


@member_page(MANAGE_MEMBERS)
@require_POST
def member_role_change(request: HttpRequest, letter: Letter, member_id: int) -> HttpResponse:
    membership = membership_of_letter(letter=letter, membership_id=member_id)
    form = RoleForm(request.POST)
    try:
        if not form.is_valid():
            raise ValidationError({"role": ["Choose one of the four roles."]})
        membership_role_change(membership=membership, role=form.cleaned_data["role"], actor=request.user)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
        return _members_page(request, letter, status=400)
    messages.success(request, f"{membership.user.email} is now {membership.get_role_display().lower()}.")
    return redirect(members_url(letter))


@member_page(VIEW_LETTER)
@require_POST
def member_remove(request: HttpRequest, letter: Letter, member_id: int) -> HttpResponse:
    membership = membership_of_letter(letter=letter, membership_id=member_id)
    leaving = membership.user_id == request.user.pk
    try:
        membership_remove(membership=membership, actor=request.user)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
        return _members_page(request, letter, status=400)
    except PermissionDenied as exc:
        return refused(request, exc)
    if leaving:
        messages.success(request, f"You left “{letter.title}”.")
        return redirect(reverse("manage-index"))
    messages.success(request, f"{membership.user.email} was removed.")
    return redirect(members_url(letter))


@member_page(MANAGE_MEMBERS)
@require_POST
def invitation_revoke(request: HttpRequest, letter: Letter, invitation_id: str) -> HttpResponse:
    invitation = invitation_of_letter(letter=letter, public_id=invitation_id)
    try:
        organizer_invitation_revoke(invitation=invitation, actor=request.user)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
        return _members_page(request, letter, status=400)
    messages.success(request, f"The invitation to {invitation.email} was revoked.")
    return redirect(members_url(letter))


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def invitation_accept(request: HttpRequest, token: str) -> HttpResponse:
    invitation = invitation_by_token(token=token)
    if invitation is None:
        return render(
            request, "web/manage/invitation.html", {"error": "This invitation link is not valid."}, status=400
        )
    error = ""
    if request.method == "POST":
        try:
            membership = organizer_invitation_accept(token=token, user=request.user)
        except ValidationError as exc:
            error = " ".join(exc.messages)
        else:
            messages.success(
                request, f"You are now {membership.get_role_display().lower()} of “{membership.letter.title}”."
            )
            return redirect(reverse("manage-dashboard", kwargs={"slug": membership.letter.slug}))
    context = {
        "invitation": invitation,
        "letter": invitation.letter,
        "error": error or invitation_unusable_reason(invitation=invitation),
    }
    return render(request, "web/manage/invitation.html", context, status=400 if error else 200)


urlpatterns = [
    path("manage/invitations/<invitation_token:token>/", invitation_accept, name="manage-invitation"),
    path("manage/<slug:slug>/members/", members, name="manage-members"),
    path("manage/<slug:slug>/members/invite/", member_invite, name="manage-member-invite"),
    path("manage/<slug:slug>/members/<num:member_id>/role/", member_role_change, name="manage-member-role"),
    path("manage/<slug:slug>/members/<num:member_id>/remove/", member_remove, name="manage-member-remove"),
    path(
        "manage/<slug:slug>/invitations/<slug:invitation_id>/revoke/",
        invitation_revoke,
        name="manage-invitation-revoke",
    ),
]
