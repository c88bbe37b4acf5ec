"""Bulk invalidation pages (/manage/<slug>/invalidations/): criteria form, preview (count, share and sample) before
anything changes, start with a second confirmation past a share of the letter, progress, cancel and undo.
Moderators, editors, owners and staff (MODERATE_LETTER); another letter's invalidation is a 404."""

from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.views.decorators.http import require_http_methods, require_POST

from letters.models import Letter, Signature
from moderation.selectors import invalidation_of_letter, invalidations_of_letter
from moderation.services import (
    InvalidationNotAllowed,
    invalidation_cancel,
    invalidation_preview,
    invalidation_start,
    invalidation_undo,
)
from organizing.permissions import MODERATE_LETTER
from web.views.manage import member_page

CRITERIA = (
    "ip",
    "ip_prefix",
    "email_domain",
    "name",
    "signed_after",
    "signed_before",
    "source",
    "hold_reason",
    "alert",
)


class InvalidationForm(forms.Form):
    ip = forms.CharField(label="IP address", required=False, max_length=100)
    ip_prefix = forms.CharField(label="Network (/24 or /64)", required=False, max_length=100)
    email_domain = forms.CharField(label="Email domain (globs: *.example.com)", required=False, max_length=200)
    name = forms.CharField(label="Name pattern (globs: *Musk*)", required=False, max_length=200)
    signed_after = forms.CharField(label="Signed after (ISO 8601, e.g. 2026-11-17T09:00:00Z)", required=False)
    signed_before = forms.CharField(label="Signed before", required=False)
    source = forms.ChoiceField(label="Source", required=False, choices=[("", "Any"), *Signature.Source.choices])
    hold_reason = forms.ChoiceField(
        label="Hold reason", required=False, choices=[("", "Any"), *Signature.HoldReason.choices]
    )
    alert = forms.CharField(label="Trending alert (its wave's address or network)", required=False, max_length=24)
    reason = forms.CharField(label="Why (private, for the audit trail)", required=False, max_length=500)
    public_reason = forms.CharField(label="Public reason (shown in the history)", required=False, max_length=200)
    confirm_large = forms.BooleanField(label="Yes, remove this large share of the letter", required=False)

    def criteria(self) -> dict[str, str]:
        return {field: self.cleaned_data.get(field) or "" for field in CRITERIA}


def _errors_onto(form: InvalidationForm, exc: ValidationError) -> None:
    for field, errors in exc.message_dict.items():
        form.add_error(field if field in form.fields else None, errors)


@member_page(MODERATE_LETTER)
@require_http_methods(["GET", "POST"])
def invalidations(request: HttpRequest, letter: Letter) -> HttpResponse:
    # A GET with criteria (a trending alert's link) fills the form in; the preview and start are POSTs as always.
    form = InvalidationForm(request.POST or None, initial={f: request.GET[f] for f in CRITERIA if f in request.GET})
    context: dict[str, Any] = {
        "letter": letter,
        "form": form,
        "invalidations": invalidations_of_letter(letter=letter)[:50],
    }
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            if request.POST.get("action") == "start":
                invalidation_start(
                    letter=letter,
                    criteria=form.criteria(),
                    reason=form.cleaned_data["reason"],
                    public_reason=form.cleaned_data["public_reason"],
                    confirm_large=form.cleaned_data["confirm_large"],
                    actor=request.user,
                )
                messages.success(request, "The invalidation has started.")
                return redirect(reverse("manage-invalidations", kwargs={"slug": letter.slug}))
            context["preview"] = invalidation_preview(letter=letter, criteria=form.criteria())
        except ValidationError as exc:
            _errors_onto(form, exc)
            status = 400
    elif request.method == "POST":
        status = 400
    context["live"] = any(i.status in ("queued", "running", "undoing") for i in context["invalidations"])
    return render(request, "web/manage/invalidations.html", context, status=status)


def _action(action: Any, done: str) -> Any:
    @member_page(MODERATE_LETTER)
    @require_POST
    def page(request: HttpRequest, letter: Letter, invalidation_id: str) -> HttpResponse:
        try:
            action(invalidation=invalidation_of_letter(letter=letter, public_id=invalidation_id), actor=request.user)
        except InvalidationNotAllowed as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, done)
        return redirect(reverse("manage-invalidations", kwargs={"slug": letter.slug}))

    return page


ONE = "manage/<slug:slug>/invalidations/<str:invalidation_id>/"
urlpatterns = [
    path("manage/<slug:slug>/invalidations/", invalidations, name="manage-invalidations"),
    path(
        ONE + "cancel/",
        _action(invalidation_cancel, "The invalidation stops before its next batch."),
        name="manage-invalidation-cancel",
    ),
    path(ONE + "undo/", _action(invalidation_undo, "The undo has started."), name="manage-invalidation-undo"),
]
