"""The held queue for moderators (/manage/<slug>/held/): filters, checkboxes and a bulk release / verify / reject
that shows what it will do (count and sample) on a confirm page before anything changes. No JavaScript: the
filters are a GET form, the selection a POST form, the confirm page carries it all in hidden fields.
Moderators, editors, owners and staff (MODERATE_LETTER)."""

from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.views.decorators.http import require_POST

from letters.models import Letter, Signature
from moderation.held import (
    ACTIONS,
    FILTERS,
    MAX_SELECTION,
    VERIFY_METHODS,
    SelectionChanged,
    held_bulk_apply,
    held_bulk_preview,
    held_filters_clean,
    held_queryset,
)
from organizing.permissions import MODERATE_LETTER
from web.manage_forms import errors_onto
from web.views.manage import member_page

SHOWN = 200
PARAMS = ("method", "evidence", "evidence_url", "reason", "public_reason")
ACTION_LABELS = {"release": "Release", "verify": "Verify", "reject": "Reject"}


class HeldFilterForm(forms.Form):
    hold_reason = forms.ChoiceField(
        label="Hold reason", required=False, choices=[("", "Any"), *Signature.HoldReason.choices[1:]]
    )
    source = forms.ChoiceField(label="Source", required=False, choices=[("", "Any"), *Signature.Source.choices])
    signed_after = forms.CharField(label="Signed after (ISO 8601)", required=False, max_length=40)
    signed_before = forms.CharField(label="Signed before", required=False, max_length=40)
    email_domain = forms.CharField(label="Email domain (globs: *.example.com)", required=False, max_length=200)
    name = forms.CharField(label="Name contains", required=False, max_length=200)


class HeldActionForm(forms.Form):
    action = forms.ChoiceField(label="Action", choices=[(a, ACTION_LABELS[a]) for a in ACTIONS], initial="release")
    method = forms.ChoiceField(
        label="Verification method", required=False, choices=[(m, m) for m in VERIFY_METHODS], initial="manual"
    )
    evidence = forms.CharField(label="Evidence (verify)", required=False, max_length=2000)
    evidence_url = forms.URLField(label="Evidence link (verify)", required=False, max_length=500)
    reason = forms.CharField(label="Reason, private (reject)", required=False, max_length=2000)
    public_reason = forms.CharField(label="Public reason (reject)", required=False, max_length=200)


def _filters(data: Any) -> dict[str, str]:
    return {f: data.get(f, "") for f in FILTERS if data.get(f)}


def _page(request: HttpRequest, letter: Letter, *, filters: dict[str, str], action_form: HeldActionForm,
          chosen: set[str], status: int = 200) -> HttpResponse:  # fmt: skip
    filter_form = HeldFilterForm(filters or None)
    held: list[Signature] = []
    try:
        clean = held_filters_clean(filters, letter=letter)
        held = list(held_queryset(letter=letter, filters=clean)[:SHOWN])
    except ValidationError as exc:
        filter_form.is_valid()
        errors_onto(filter_form, exc)
        status = 400
    context = {
        "letter": letter,
        "filter_form": filter_form,
        "action_form": action_form,
        "filters": filters,
        "held": held,
        "shown": SHOWN,
        "chosen": chosen,
    }
    return render(request, "web/manage/held.html", context, status=status)


@member_page(MODERATE_LETTER)
def held(request: HttpRequest, letter: Letter) -> HttpResponse:
    return _page(request, letter, filters=_filters(request.GET), action_form=HeldActionForm(), chosen=set())


@member_page(MODERATE_LETTER)
@require_POST
def held_bulk(request: HttpRequest, letter: Letter) -> HttpResponse:
    """Without `confirmation`: the confirm page. With it: act, or show the changed selection to confirm again."""
    filters = _filters(request.POST)
    chosen = [i[:24] for i in request.POST.getlist("signatures")][:MAX_SELECTION]
    action_form = HeldActionForm(request.POST)
    if not action_form.is_valid():
        return _page(request, letter, filters=filters, action_form=action_form, chosen=set(chosen), status=400)
    data = action_form.cleaned_data
    all_matching = request.POST.get("all_matching") == "on"
    selection = {
        "letter": letter,
        "action": data["action"],
        "filters": filters,
        "public_ids": None if all_matching else chosen or None,  # "every one matching" includes the ticked ones
        "all_matching": all_matching,
    }
    params = {p: data.get(p) or "" for p in PARAMS}
    status = 200
    confirmation = request.POST.get("confirmation", "")
    try:
        if confirmation:
            try:
                done = held_bulk_apply(**selection, confirmation=confirmation, params=params, actor=request.user)
            except SelectionChanged as exc:
                messages.error(request, exc.message)
                status = 409
            else:
                messages.success(request, _done_message(done.action, done.done, done.skipped))
                return redirect(reverse("manage-held", kwargs={"slug": letter.slug}))
        preview = held_bulk_preview(**selection, params=params)
    except ValidationError as exc:
        errors_onto(action_form, exc)
        return _page(request, letter, filters=filters, action_form=action_form, chosen=set(chosen), status=400)
    context = {
        "letter": letter,
        "preview": preview,
        "label": ACTION_LABELS[preview.action],
        "filters": filters,
        "chosen": [] if all_matching else chosen,
        "all_matching": all_matching,
        "params": params,
    }
    return render(request, "web/manage/held_confirm.html", context, status=status)


def _done_message(action: str, done: int, skipped: int) -> str:
    verb = {"release": "released", "verify": "verified", "reject": "rejected"}[action]
    text = f"{done} signature{'s' if done != 1 else ''} {verb}."
    return text + (f" {skipped} had changed meanwhile and were left as they were." if skipped else "")


urlpatterns = [
    path("manage/<slug:slug>/held/", held, name="manage-held"),
    path("manage/<slug:slug>/held/bulk/", held_bulk, name="manage-held-bulk"),
]
