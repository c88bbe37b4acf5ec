"""Webhooks of a letter for its owners (/api/v1/manage/letters/{slug}/webhooks/…, …/milestones): endpoints, their
secrets (shown once; rotation with an overlap), the delivery log with manual redelivery, a test ping, and the letter's
own milestone thresholds. Owners (and staff) with two-factor login only: organizing.permissions.RUN_LETTER. A letter
of someone else, or another letter's endpoint or delivery, answers 404."""

from django.conf import settings
from django.urls import path, register_converter
from django.urls.converters import StringConverter
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from api.serializers.manage_webhooks import (
    DeliverySerializer,
    EndpointCreatedSerializer,
    EndpointInputSerializer,
    EndpointSerializer,
    EndpointUpdateSerializer,
    MilestonesSerializer,
    SecretSerializer,
)
from api.views.manage import MANAGE_ERRORS, TAGS, Conflict, ManageView
from config import converters  # noqa: F401  registers <public_id:…> and <num:…>
from letters.models import Letter
from organizing.permissions import RUN_LETTER
from webhooks.models import Endpoint
from webhooks.selectors import deliveries_of_endpoint, delivery_of_endpoint, endpoint_of_letter, endpoints_of_letter
from webhooks.services import (
    RedeliveryRefused,
    delivery_redeliver,
    endpoint_create,
    endpoint_delete,
    endpoint_ping,
    endpoint_secret_rotate,
    endpoint_update,
    letter_milestones_set,
)


class WebhookIdConverter(StringConverter):
    """webhooks.models.new_webhook_id: "msg_" and URL-safe base64 (anything else is a 404 before any query)."""

    regex = "msg_[A-Za-z0-9_-]{1,36}"


register_converter(WebhookIdConverter, "webhook_id")


class WebhookView(ManageView):
    def endpoint(self, slug: str, endpoint_id: str) -> tuple[Letter, Endpoint]:
        letter = self.letter(slug, RUN_LETTER)
        return letter, endpoint_of_letter(letter=letter, public_id=endpoint_id)


class EndpointListView(WebhookView):
    @extend_schema(
        summary="The letter's webhook endpoints (owners)",
        responses={200: EndpointSerializer(many=True), **MANAGE_ERRORS},
        tags=TAGS,
    )
    def get(self, request: Request, slug: str) -> Response:
        letter = self.letter(slug, RUN_LETTER)
        return Response(EndpointSerializer(endpoints_of_letter(letter=letter), many=True).data)

    @extend_schema(
        summary="Add an endpoint: the answer holds its signing secret, shown this once",
        request=EndpointInputSerializer,
        responses={201: EndpointCreatedSerializer, **MANAGE_ERRORS},
        tags=TAGS,
    )
    def post(self, request: Request, slug: str) -> Response:
        letter = self.letter(slug, RUN_LETTER)
        data = self.valid(EndpointInputSerializer)
        created = endpoint_create(letter=letter, actor=request.user, **data)
        body = {**EndpointSerializer(created.endpoint).data, "secret": created.secret}
        return Response(body, status=status.HTTP_201_CREATED)


class EndpointDetailView(WebhookView):
    @extend_schema(summary="One endpoint", responses={200: EndpointSerializer, **MANAGE_ERRORS}, tags=TAGS)
    def get(self, request: Request, slug: str, endpoint_id: str) -> Response:
        return Response(EndpointSerializer(self.endpoint(slug, endpoint_id)[1]).data)

    @extend_schema(
        summary="Change an endpoint's URL, description, events, or turn it off and on",
        request=EndpointUpdateSerializer,
        responses={200: EndpointSerializer, **MANAGE_ERRORS},
        tags=TAGS,
    )
    def patch(self, request: Request, slug: str, endpoint_id: str) -> Response:
        _letter, endpoint = self.endpoint(slug, endpoint_id)
        data = self.valid(EndpointUpdateSerializer)
        return Response(EndpointSerializer(endpoint_update(endpoint=endpoint, actor=request.user, **data)).data)

    @extend_schema(
        summary="Delete an endpoint and its delivery log",
        request=None,
        responses={204: None, **MANAGE_ERRORS},
        tags=TAGS,
    )
    def delete(self, request: Request, slug: str, endpoint_id: str) -> Response:
        endpoint_delete(endpoint=self.endpoint(slug, endpoint_id)[1], actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class RotateView(WebhookView):
    @extend_schema(
        summary="A new signing secret (shown once); the old one keeps signing during the overlap",
        request=None,
        responses={200: SecretSerializer, **MANAGE_ERRORS},
        tags=TAGS,
    )
    def post(self, request: Request, slug: str, endpoint_id: str) -> Response:
        _letter, endpoint = self.endpoint(slug, endpoint_id)
        secret = endpoint_secret_rotate(endpoint=endpoint, actor=request.user)
        previous = endpoint.secrets.exclude(expires_at=None).order_by("-expires_at").first()
        until = previous.expires_at if previous else None
        return Response(SecretSerializer({"secret": secret, "previous_valid_until": until}).data)


class PingView(WebhookView):
    @extend_schema(
        summary="Queue a webhook.ping delivery to the endpoint",
        request=None,
        responses={202: DeliverySerializer, **MANAGE_ERRORS},
        tags=TAGS,
    )
    def post(self, request: Request, slug: str, endpoint_id: str) -> Response:
        _letter, endpoint = self.endpoint(slug, endpoint_id)
        return Response(DeliverySerializer(endpoint_ping(endpoint=endpoint, actor=request.user)).data, status=202)


class DeliveryListView(WebhookView):
    @extend_schema(
        summary="The endpoint's newest deliveries with every attempt (status, latency, error)",
        responses={200: DeliverySerializer(many=True), **MANAGE_ERRORS},
        tags=TAGS,
    )
    def get(self, request: Request, slug: str, endpoint_id: str) -> Response:
        _letter, endpoint = self.endpoint(slug, endpoint_id)
        return Response(DeliverySerializer(deliveries_of_endpoint(endpoint=endpoint), many=True).data)


class RedeliverView(WebhookView):
    @extend_schema(
        summary="Send a delivery again now, with its webhook-id (409 while the endpoint is disabled)",
        request=None,
        responses={202: DeliverySerializer, **MANAGE_ERRORS},
        tags=TAGS,
    )
    def post(self, request: Request, slug: str, endpoint_id: str, webhook_id: str) -> Response:
        _letter, endpoint = self.endpoint(slug, endpoint_id)
        delivery = delivery_of_endpoint(endpoint=endpoint, webhook_id=webhook_id)
        try:
            delivery = delivery_redeliver(delivery=delivery, actor=request.user)
        except RedeliveryRefused as exc:
            raise Conflict(exc.message) from exc
        return Response(DeliverySerializer(delivery).data, status=202)


class MilestonesView(WebhookView):
    @extend_schema(
        summary="The letter's milestone thresholds", responses={200: MilestonesSerializer, **MANAGE_ERRORS}, tags=TAGS
    )
    def get(self, request: Request, slug: str) -> Response:
        letter = self.letter(slug, RUN_LETTER)
        return Response({"thresholds": letter.milestone_thresholds, "defaults": settings.MILESTONE_THRESHOLDS})

    @extend_schema(
        summary="Set the letter's own thresholds (announced as milestone.reached, besides the defaults)",
        request=MilestonesSerializer,
        responses={200: MilestonesSerializer, **MANAGE_ERRORS},
        tags=TAGS,
    )
    def put(self, request: Request, slug: str) -> Response:
        letter = self.letter(slug, RUN_LETTER)
        data = self.valid(MilestonesSerializer)
        letter = letter_milestones_set(letter=letter, thresholds=data["thresholds"], actor=request.user)
        return Response({"thresholds": letter.milestone_thresholds, "defaults": settings.MILESTONE_THRESHOLDS})


HOOKS = "manage/letters/<slug:slug>/webhooks/"
ENDPOINT = HOOKS + "<public_id:endpoint_id>/"
urlpatterns = [
    path(HOOKS, EndpointListView.as_view(), name="api-manage-webhooks"),
    path(ENDPOINT, EndpointDetailView.as_view(), name="api-manage-webhook"),
    path(ENDPOINT + "rotate", RotateView.as_view(), name="api-manage-webhook-rotate"),
    path(ENDPOINT + "ping", PingView.as_view(), name="api-manage-webhook-ping"),
    path(ENDPOINT + "deliveries/", DeliveryListView.as_view(), name="api-manage-webhook-deliveries"),
    path(
        ENDPOINT + "deliveries/<webhook_id:webhook_id>/redeliver",
        RedeliverView.as_view(),
        name="api-manage-webhook-redeliver",
    ),
    path("manage/letters/<slug:slug>/milestones", MilestonesView.as_view(), name="api-manage-milestones"),
]
