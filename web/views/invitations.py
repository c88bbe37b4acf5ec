"""An invited signer's page (/invitations/<token>/): the letter (even under embargo), the prefilled name, title and
organization to correct, and two buttons — sign with one click, or decline. GET only shows; POST acts."""

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from importing.invitations import (
    InvitationInvalid,
    InvitationNotAllowed,
    invitation_decline,
    invitation_for_token,
    invitation_open,
    invitation_sign,
)
from letters.markdown import markdown_to_safe_html
from letters.models import Letter
from letters.typed_text import MAX_LENGTH
from web.forms import guarded


class InviteeForm(forms.Form):
    name = forms.CharField(label="Your name, as it will appear", strip=False, **guarded(MAX_LENGTH))
    title = forms.CharField(label="Title", required=False, strip=False, **guarded(MAX_LENGTH))
    organization = forms.CharField(label="Organization", required=False, strip=False, **guarded(MAX_LENGTH))


def _invalid(request: HttpRequest) -> HttpResponse:
    return render(request, "web/invitation_invalid.html", {"message": InvitationInvalid.message}, status=404)


@never_cache
@require_http_methods(["GET", "POST"])
def invitation(request: HttpRequest, token: str) -> HttpResponse:
    try:
        invited = invitation_open(token=token) if request.method == "GET" else invitation_for_token(token=token)
    except InvitationInvalid:
        return _invalid(request)
    letter = invited.letter
    initial = {"name": invited.name, "title": invited.title, "organization": invited.organization_name}
    form = InviteeForm(request.POST if request.POST.get("action") == "sign" else None, initial=initial)
    context: dict[str, Any] = {
        "invitation": invited,
        "letter": letter,
        "embargoed": letter.status == Letter.Status.SCHEDULED,
        "body": markdown_to_safe_html(letter.current_version.body) if letter.current_version else "",
        "form": form,
    }
    if request.method == "POST":
        if request.POST.get("action") not in ("sign", "decline"):
            context["problem"] = "Choose “Sign the letter” or “No thanks, decline”."
            return render(request, "web/invitation.html", context, status=400)
        try:
            if request.POST.get("action") == "decline":
                invitation_decline(token=token)
                return render(request, "web/invitation_done.html", {"letter": letter, "declined": True})
            if form.is_valid():
                signature = invitation_sign(token=token, **form.cleaned_data)
                return render(request, "web/invitation_done.html", {"letter": letter, "signature": signature})
        except InvitationInvalid:
            return _invalid(request)
        except InvitationNotAllowed as exc:
            context["problem"] = exc.message
            return render(request, "web/invitation.html", context, status=409)
        except ValidationError as exc:
            for field, messages in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, messages)
        return render(request, "web/invitation.html", context, status=400)
    return render(request, "web/invitation.html", context)


urlpatterns = [path("invitations/<str:token>/", invitation, name="web-invitation")]
