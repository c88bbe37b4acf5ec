"""Bulk invalidations (/api/v1/manage/letters/{slug}/invalidations/…): preview, start, progress, cancel, undo.
Moderators, editors, owners and staff (organizing.permissions.MODERATE_LETTER); another letter's is a 404."""

from typing import Any

from django.urls import path
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from api.parsers import JSONParser
from api.serializers.manage_moderation import (
    InvalidationPreviewSerializer,
    InvalidationSerializer,
    PreviewInputSerializer,
    StartInputSerializer,
)
from api.views.manage import MANAGE_ERRORS, TAGS, Conflict, ManageView
from config import converters  # noqa: F401  registers <public_id:…> and <num:…>
from moderation.selectors import invalidation_of_letter, invalidations_of_letter
from moderation.services import (
    InvalidationNotAllowed,
    invalidation_cancel,
    invalidation_preview,
    invalidation_start,
    invalidation_undo,
)
from organizing.permissions import MODERATE_LETTER


class InvalidationView(ManageView):
    parser_classes = [JSONParser]

    def handle_exception(self, exc: Exception) -> Response:
        if isinstance(exc, InvalidationNotAllowed):
            exc = Conflict(exc.message)
        return super().handle_exception(exc)


class InvalidationPreviewView(InvalidationView):
    @extend_schema(
        summary="What these criteria match now: the count, the share of the letter and a sample (nothing changes)",
        request=PreviewInputSerializer,
        responses={200: InvalidationPreviewSerializer, **MANAGE_ERRORS},
        tags=TAGS,
    )
    def post(self, request: Request, slug: str) -> Response:
        letter = self.letter(slug, MODERATE_LETTER)
        preview = invalidation_preview(letter=letter, criteria=self.valid(PreviewInputSerializer)["criteria"])
        return Response(InvalidationPreviewSerializer(preview).data)


class InvalidationListView(InvalidationView):
    @extend_schema(
        summary="The letter's bulk invalidations, newest first",
        responses={200: InvalidationSerializer(many=True), **MANAGE_ERRORS},
        tags=TAGS,
    )
    def get(self, request: Request, slug: str) -> Response:
        letter = self.letter(slug, MODERATE_LETTER)
        return Response(InvalidationSerializer(invalidations_of_letter(letter=letter), many=True).data)

    @extend_schema(
        summary="Start a bulk invalidation (runs as a job; past a share of the letter it needs confirm_large)",
        request=StartInputSerializer,
        responses={202: InvalidationSerializer, **MANAGE_ERRORS},
        tags=TAGS,
    )
    def post(self, request: Request, slug: str) -> Response:
        letter = self.letter(slug, MODERATE_LETTER)
        data = self.valid(StartInputSerializer)
        invalidation = invalidation_start(letter=letter, actor=request.user, **data)
        invalidation.refresh_from_db()
        return Response(InvalidationSerializer(invalidation).data, status=status.HTTP_202_ACCEPTED)


class InvalidationDetailView(InvalidationView):
    @extend_schema(
        summary="One bulk invalidation and its progress",
        responses={200: InvalidationSerializer, **MANAGE_ERRORS},
        tags=TAGS,
    )
    def get(self, request: Request, slug: str, invalidation_id: str) -> Response:
        letter = self.letter(slug, MODERATE_LETTER)
        return Response(InvalidationSerializer(invalidation_of_letter(letter=letter, public_id=invalidation_id)).data)


def _action(action: Any, summary: str) -> type[InvalidationView]:
    class ActionView(InvalidationView):
        @extend_schema(
            summary=summary, request=None, responses={202: InvalidationSerializer, **MANAGE_ERRORS}, tags=TAGS
        )
        def post(self, request: Request, slug: str, invalidation_id: str) -> Response:
            letter = self.letter(slug, MODERATE_LETTER)
            invalidation = action(
                invalidation=invalidation_of_letter(letter=letter, public_id=invalidation_id), actor=request.user
            )
            invalidation.refresh_from_db()
            return Response(InvalidationSerializer(invalidation).data, status=status.HTTP_202_ACCEPTED)

    return ActionView


BASE = "manage/letters/<slug:slug>/invalidations/"
ONE = BASE + "<public_id:invalidation_id>/"
urlpatterns = [
    path(BASE, InvalidationListView.as_view(), name="api-manage-invalidations"),
    path(BASE + "preview", InvalidationPreviewView.as_view(), name="api-manage-invalidation-preview"),
    path(ONE, InvalidationDetailView.as_view(), name="api-manage-invalidation"),
    path(
        ONE + "cancel",
        _action(invalidation_cancel, "Stop a running invalidation before its next batch").as_view(),
        name="api-manage-invalidation-cancel",
    ),
    path(
        ONE + "undo",
        _action(invalidation_undo, "Undo: put back what nothing has touched since").as_view(),
        name="api-manage-invalidation-undo",
    ),
]
