"""Trending alerts (/manage/<slug>/alerts/): the letter's waves (open and acknowledged first), each with a link to the
bulk invalidation page filled in with its criteria, and acknowledge / dismiss. Moderators, editors, owners and staff
(MODERATE_LETTER); another letter's alert is a 404."""

from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.views.decorators.http import require_POST

from letters.models import Letter
from moderation.alerts import AlertNotAllowed, alert_acknowledge, alert_dismiss, alert_invalidation_criteria
from moderation.selectors import ALERT_STATUSES, alert_of_letter, alerts_of_letter
from organizing.permissions import MODERATE_LETTER
from web.views.manage import member_page

LISTED = 200


@member_page(MODERATE_LETTER)
def alerts(request: HttpRequest, letter: Letter) -> HttpResponse:
    status = request.GET.get("status") or "active"
    if status not in ALERT_STATUSES:
        status = "active"
    invalidations = reverse("manage-invalidations", kwargs={"slug": letter.slug})
    rows = [
        (alert, f"{invalidations}?{urlencode(alert_invalidation_criteria(alert))}")
        for alert in alerts_of_letter(letter=letter, status=status)[:LISTED]
    ]
    context = {"letter": letter, "alerts": rows, "status": status, "statuses": ALERT_STATUSES}
    return render(request, "web/manage/alerts.html", context)


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
    path(
        ONE + "acknowledge/", _action(alert_acknowledge, "The alert is acknowledged."), name="manage-alert-acknowledge"
    ),
    path(ONE + "dismiss/", _action(alert_dismiss, "The alert is dismissed."), name="manage-alert-dismiss"),
]
