"""The held queue in bulk (/api/v1/manage/letters/{slug}/held/bulk): release, verify or reject a selection (ids, or
all matching the filters) in two calls: without `confirmation` the count, a sample and the confirmation; with it,
the action, refused with 409 when the selection changed meanwhile. Moderators, editors, owners and staff
(organizing.permissions.MODERATE_LETTER); another letter's signature is a 400 that names nothing of it."""

from django.urls import path
from drf_spectacular.utils import OpenApiResponse, PolymorphicProxySerializer, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from api.parsers import JSONParser
from api.serializers.manage_held import HeldBulkInputSerializer, HeldBulkPreviewSerializer, HeldBulkResultSerializer
from api.views.manage import MANAGE_ERRORS, TAGS, Conflict, ManageView
from moderation.held import SelectionChanged, held_bulk_apply, held_bulk_preview
from organizing.permissions import MODERATE_LETTER

PARAMS = ("method", "evidence", "evidence_url", "reason", "public_reason")


class HeldBulkView(ManageView):
    parser_classes = [JSONParser]

    def handle_exception(self, exc: Exception) -> Response:
        if isinstance(exc, SelectionChanged):
            exc = Conflict(exc.message)
        return super().handle_exception(exc)

    @extend_schema(
        summary="Release, verify or reject held signatures in bulk: preview (no confirmation), then act (with it)",
        request=HeldBulkInputSerializer,
        responses={
            200: OpenApiResponse(
                PolymorphicProxySerializer(
                    component_name="HeldBulkAnswer",
                    serializers=[HeldBulkPreviewSerializer, HeldBulkResultSerializer],
                    resource_type_field_name=None,
                ),
                description="The preview (count, sample, confirmation), or what was done.",
            ),
            **MANAGE_ERRORS,
        },
        tags=TAGS,
    )
    def post(self, request: Request, slug: str) -> Response:
        letter = self.letter(slug, MODERATE_LETTER)
        data = self.valid(HeldBulkInputSerializer)
        selection = {
            "letter": letter,
            "action": data["action"],
            "filters": data.get("filters") or {},
            "public_ids": data.get("signatures") or None,
            "all_matching": data["all_matching"],
        }
        params = {name: data[name] for name in PARAMS if name in data}
        if not data.get("confirmation"):
            preview = held_bulk_preview(**selection, params=params)
            body = {
                "action": preview.action,
                "count": preview.count,
                "sample": preview.sample,
                "confirmation": preview.confirmation,
            }
            return Response(HeldBulkPreviewSerializer(body).data)
        done = held_bulk_apply(**selection, confirmation=data["confirmation"], params=params, actor=request.user)
        return Response(HeldBulkResultSerializer(done).data)


urlpatterns = [
    path("manage/letters/<slug:slug>/held/bulk", HeldBulkView.as_view(), name="api-manage-held-bulk"),
]
