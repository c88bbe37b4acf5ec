"""Trending alerts (/manage/<slug>/alerts/): the letter's waves (open and acknowledged first), each with a link to the
bulk invalidation page filled in with its criteria, acknowledge / dismiss, and the letter's own thresholds.
Moderators, editors, owners and staff (MODERATE_LETTER); another letter's alert is a 404."""

from typing import Any
from urllib.parse import urlencode

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.views.decorators.http import require_POST

from letters.models import Letter
from moderation.alerts import (
    AlertNotAllowed,
    alert_acknowledge,
    alert_dismiss,
    alert_invalidation_criteria,
    alert_thresholds_of,
    alert_thresholds_set,
)
from moderation.selectors import ALERT_STATUSES, alert_of_letter, alerts_of_letter
from organizing.permissions import MODERATE_LETTER
from web.manage_forms import errors_onto
from web.views.manage import member_page

LISTED = 200


class ThresholdsForm(forms.Form):
    ip = forms.IntegerField(label="From one address", required=False, min_value=1, max_value=1_000_000)
    ip_prefix = forms.IntegerField(
        label="From one /24 or /64 network", required=False, min_value=1, max_value=1_000_000
    )
    email_domain = forms.IntegerField(
        label="From one email domain (webmail excepted)", required=False, min_value=1, max_value=1_000_000
    )


def _page(
    request: HttpRequest, letter: Letter, *, form: ThresholdsForm | None = None, status: int = 200
) -> HttpResponse:
    shown = request.GET.get("status") or "active"
    if shown not in ALERT_STATUSES:
        shown = "active"
    invalidations = reverse("manage-invalidations", kwargs={"slug": letter.slug})
    rows = [
        (alert, f"{invalidations}?{urlencode(alert_invalidation_criteria(alert))}")
        for alert in alerts_of_letter(letter=letter, status=shown)[:LISTED]
    ]
    thresholds = alert_thresholds_of(letter=letter)
    context = {
        "letter": letter,
        "alerts": rows,
        "status": shown,
        "statuses": ALERT_STATUSES,
        "thresholds": thresholds,
        "window_minutes": settings.ALERT_WINDOW_SECONDS // 60,
        "thresholds_form": form or ThresholdsForm(initial=thresholds.own),
    }
    return render(request, "web/manage/alerts.html", context, status=status)


@member_page(MODERATE_LETTER)
def alerts(request: HttpRequest, letter: Letter) -> HttpResponse:
    return _page(request, letter)


@member_page(MODERATE_LETTER)
@require_POST
def thresholds(request: HttpRequest, letter: Letter) -> HttpResponse:
    form = ThresholdsForm(request.POST)
    if not form.is_valid():
        return _page(request, letter, form=form, status=400)
    try:
        alert_thresholds_set(letter=letter, thresholds=form.cleaned_data, actor=request.user)
    except ValidationError as exc:
        errors_onto(form, exc)
        return _page(request, letter, form=form, status=400)
    messages.success(request, "The letter's alert thresholds are saved.")
    return redirect(reverse("manage-alerts", kwargs={"slug": letter.slug}))


def _action(action: Any, done: str) -> Any:
    @member_page(MODERATE_LETTER)
    @require_POST
    def page(request: HttpRequest, letter: Letter, alert_id: str) -> HttpResponse:
        try:
            action(alert=alert_of_letter(letter=letter, public_id=alert_id), actor=request.user)
        except AlertNotAllowed as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, done)
        return redirect(reverse("manage-alerts", kwargs={"slug": letter.slug}))

    return page


ONE = "manage/<slug:slug>/alerts/<slug:alert_id>/"
urlpatterns = [
    path("manage/<slug:slug>/alerts/", alerts, name="manage-alerts"),
    path("manage/<slug:slug>/alerts/thresholds/", thresholds, name="manage-alert-thresholds"),
    path(
        ONE + "acknowledge/", _action(alert_acknowledge, "The alert is acknowledged."), name="manage-alert-acknowledge"
    ),
    path(ONE + "dismiss/", _action(alert_dismiss, "The alert is dismissed."), name="manage-alert-dismiss"),
]
