"""Trending alerts (/api/v1/manage/letters/{slug}/alerts/…): list, acknowledge, dismiss, the letter's thresholds.
Moderators, editors, owners and staff (organizing.permissions.MODERATE_LETTER); another letter's alert is a 404."""

from typing import Any

from django.core.exceptions import ValidationError
from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from api.parsers import JSONParser
from api.serializers.manage_alerts import (
    AlertThresholdsInputSerializer,
    AlertThresholdsSerializer,
    TrendingAlertSerializer,
)
from api.views.manage import MANAGE_ERRORS, TAGS, Conflict, ManageView
from config import converters  # noqa: F401  registers <public_id:…> and <num:…>
from moderation.alerts import (
    AlertNotAllowed,
    alert_acknowledge,
    alert_dismiss,
    alert_thresholds_of,
    alert_thresholds_set,
)
from moderation.selectors import ALERT_STATUSES, alert_of_letter, alerts_of_letter
from organizing.permissions import MODERATE_LETTER

LISTED = 200


class AlertView(ManageView):
    def handle_exception(self, exc: Exception) -> Response:
        if isinstance(exc, AlertNotAllowed):
            exc = Conflict(exc.message)
        return super().handle_exception(exc)


class AlertListView(AlertView):
    @extend_schema(
        summary="The letter's trending alerts, latest wave first (open and acknowledged unless status says)",
        parameters=[OpenApiParameter("status", OpenApiTypes.STR, enum=list(ALERT_STATUSES), required=False)],
        responses={200: TrendingAlertSerializer(many=True), **MANAGE_ERRORS},
        tags=TAGS,
    )
    def get(self, request: Request, slug: str) -> Response:
        letter = self.letter(slug, MODERATE_LETTER)
        status = request.query_params.get("status") or "active"
        if status not in ALERT_STATUSES:
            raise ValidationError({"status": [f"One of {', '.join(ALERT_STATUSES)}."]})
        alerts = alerts_of_letter(letter=letter, status=status)[:LISTED]
        return Response(TrendingAlertSerializer(alerts, many=True).data)


class AlertThresholdsView(AlertView):
    parser_classes = [JSONParser]

    @extend_schema(
        summary="The letter's alert thresholds: its own, the deployment's defaults and those in effect",
        responses={200: AlertThresholdsSerializer, **MANAGE_ERRORS},
        tags=TAGS,
    )
    def get(self, request: Request, slug: str) -> Response:
        letter = self.letter(slug, MODERATE_LETTER)
        return Response(AlertThresholdsSerializer(alert_thresholds_of(letter=letter)).data)

    @extend_schema(
        summary="Set the letter's own alert thresholds (null: the deployment's); audited",
        request=AlertThresholdsInputSerializer,
        responses={200: AlertThresholdsSerializer, **MANAGE_ERRORS},
        tags=TAGS,
    )
    def put(self, request: Request, slug: str) -> Response:
        letter = self.letter(slug, MODERATE_LETTER)
        data = self.valid(AlertThresholdsInputSerializer)
        thresholds = alert_thresholds_set(letter=letter, thresholds=data, actor=request.user)
        return Response(AlertThresholdsSerializer(thresholds).data)


def _action(action: Any, summary: str) -> type[AlertView]:
    class ActionView(AlertView):
        @extend_schema(
            summary=summary, request=None, responses={200: TrendingAlertSerializer, **MANAGE_ERRORS}, tags=TAGS
        )
        def post(self, request: Request, slug: str, alert_id: str) -> Response:
            letter = self.letter(slug, MODERATE_LETTER)
            alert = action(alert=alert_of_letter(letter=letter, public_id=alert_id), actor=request.user)
            alert.refresh_from_db()
            return Response(TrendingAlertSerializer(alert).data)

    ActionView.__name__ = ActionView.__qualname__ = f"Alert{action.__name__.split('_')[-1].title()}View"
    return ActionView


ONE = "manage/letters/<slug:slug>/alerts/<public_id:alert_id>/"
urlpatterns = [
    path("manage/letters/<slug:slug>/alerts/", AlertListView.as_view(), name="api-manage-alerts"),
    path(
        "manage/letters/<slug:slug>/alerts/thresholds",
        AlertThresholdsView.as_view(),
        name="api-manage-alert-thresholds",
    ),
    path(
        ONE + "acknowledge",
        _action(alert_acknowledge, "Acknowledge an alert: seen, being looked into (it keeps updating)").as_view(),
        name="api-manage-alert-acknowledge",
    ),
    path(
        ONE + "dismiss",
        _action(alert_dismiss, "Dismiss an alert: not a problem (the same wave raises no new alert)").as_view(),
        name="api-manage-alert-dismiss",
    ),
]
