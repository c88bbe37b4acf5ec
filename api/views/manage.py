"""Organizers' API (/api/v1/manage/): their letters, drafts, lifecycle, versions, dashboard, held queue and private
exports. Session or token auth. Every letter is fetched through organizing.selectors.letter_for_member: a letter the
user is not a member of answers 404, whatever is asked of it; a role that does not allow the action answers 403; an
owner without a second factor answers 403 saying so."""

from collections.abc import Callable
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpResponse
from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from api.pagination import StaffPagePagination
from api.serializers.manage import (
    DashboardSerializer,
    LetterCreateInputSerializer,
    LetterPreviewInputSerializer,
    LetterPreviewSerializer,
    LetterUpdateInputSerializer,
    ManagedLetterBriefSerializer,
    ManagedLetterSerializer,
    ManagedSignatureSerializer,
    ManagedVersionSerializer,
    ScheduleInputSerializer,
    VersionInputSerializer,
    recipient_pairs,
)
from api.serializers.signing import ErrorSerializer
from api.serializers.staff import RejectInputSerializer, VerifyInputSerializer
from config import converters  # noqa: F401  registers <public_id:…> and <num:…>
from letters.models import Letter, Signature
from letters.services.letters import letter_version_publish
from letters.services.lifecycle import TransitionRefused, letter_close, letter_open, letter_pause, letter_schedule
from letters.services.private_exports import private_export_create
from letters.services.verification import (
    VerificationError,
    signature_hold,
    signature_reject,
    signature_release,
    signature_verify_manual,
)
from moderation.held import FILTERS as HELD_FILTERS
from moderation.held import held_filters_clean, held_queryset
from moderation.selectors import alerts_of_letter
from organizing.authoring import letter_create_with_owner, letter_draft_edit, markdown_preview
from organizing.dashboard import letter_dashboard, letter_signature_get
from organizing.permissions import (
    EDIT_LETTER,
    EXPORT_PRIVATE,
    MODERATE_LETTER,
    RUN_LETTER,
    VIEW_LETTER,
    SecondFactorRequired,
    can,
    member_role,
)
from organizing.selectors import letter_for_member, letters_of_member

MANAGE_ERRORS = {
    400: ErrorSerializer,
    401: OpenApiResponse(ErrorSerializer, description="Not authenticated."),
    403: OpenApiResponse(
        ErrorSerializer, description="Your role does not allow this, or you must first set up two-factor login."
    ),
    404: OpenApiResponse(ErrorSerializer, description="No such letter among yours (or no such signature in it)."),
    409: OpenApiResponse(ErrorSerializer, description="Not possible in the letter's or signature's current state."),
}
TAGS = ["manage"]
ALERTS_SHOWN = 50
NON_FIELD_ERRORS = api_settings.NON_FIELD_ERRORS_KEY


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "Not possible in the current state."


def _validation_errors(exc: DjangoValidationError) -> dict[str, list[str]]:
    if hasattr(exc, "error_dict"):
        return {
            (NON_FIELD_ERRORS if field == "__all__" else field): [str(m) for m in messages]
            for field, messages in exc.message_dict.items()
        }
    return {NON_FIELD_ERRORS: [str(m) for m in exc.messages]}


class ManageView(APIView):
    """Signed-in users only; the services' refusals become the API's error shape here, in one place."""

    permission_classes = [IsAuthenticated]

    def handle_exception(self, exc: Exception) -> Response:
        if isinstance(exc, SecondFactorRequired):
            exc = exceptions.PermissionDenied(exc.message)
        elif isinstance(exc, DjangoValidationError):
            exc = exceptions.ValidationError(_validation_errors(exc))
        elif isinstance(exc, TransitionRefused):
            exc = Conflict(exc.message)
        elif isinstance(exc, VerificationError):
            exc = Conflict(str(exc))
        return super().handle_exception(exc)

    def letter(self, slug: str, permission: str) -> Letter:
        return letter_for_member(user=self.request.user, slug=slug, permission=permission)

    def signature(self, letter: Letter, public_id: str) -> Signature:
        try:
            return letter_signature_get(letter=letter, public_id=public_id)
        except Signature.DoesNotExist:
            raise Http404 from None

    def valid(self, serializer_class: type, data: Any = None) -> dict[str, Any]:
        serializer = serializer_class(data=self.request.data if data is None else data)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    def letter_answer(self, letter: Letter, code: int = status.HTTP_200_OK) -> Response:
        letter = Letter.objects.select_related("current_version").get(pk=letter.pk)
        roles = {letter.pk: member_role(self.request.user, letter)}
        return Response(ManagedLetterSerializer(letter, context={"roles": roles}).data, status=code)


class LetterListView(ManageView):
    @extend_schema(
        summary="Your letters (those you are a member of)",
        responses={200: ManagedLetterBriefSerializer(many=True), **MANAGE_ERRORS},
        tags=TAGS,
    )
    def get(self, request: Request) -> Response:
        letters = list(letters_of_member(user=request.user))
        roles = {letter.pk: getattr(letter, "member_role", None) for letter in letters}
        return Response(ManagedLetterBriefSerializer(letters, many=True, context={"roles": roles}).data)

    @extend_schema(
        summary="Create a draft letter; you become its owner",
        request=LetterCreateInputSerializer,
        responses={201: ManagedLetterSerializer, **MANAGE_ERRORS},
        tags=TAGS,
    )
    def post(self, request: Request) -> Response:
        data = self.valid(LetterCreateInputSerializer)
        letter = letter_create_with_owner(
            user=request.user,
            slug=data["slug"],
            title=data["title"],
            summary=data["summary"],
            body=data["body"],
            recipients=recipient_pairs(data["recipients"]),
            sponsor_slugs=data["sponsors"],
        )
        return self.letter_answer(letter, status.HTTP_201_CREATED)


class PreviewView(ManageView):
    @extend_schema(
        summary="Render a Markdown body as the letter page would (sanitized HTML), with what would be refused",
        request=LetterPreviewInputSerializer,
        responses={200: LetterPreviewSerializer, **MANAGE_ERRORS},
        tags=TAGS,
    )
    def post(self, request: Request) -> Response:
        html, problems = markdown_preview(text=self.valid(LetterPreviewInputSerializer)["body"])
        return Response({"html": str(html), "problems": problems})


class LetterDetailView(ManageView):
    @extend_schema(summary="One of your letters", responses={200: ManagedLetterSerializer, **MANAGE_ERRORS}, tags=TAGS)
    def get(self, request: Request, slug: str) -> Response:
        return self.letter_answer(self.letter(slug, VIEW_LETTER))

    @extend_schema(
        summary="Change a draft: title, summary, body, recipients, sponsors",
        request=LetterUpdateInputSerializer,
        responses={200: ManagedLetterSerializer, **MANAGE_ERRORS},
        tags=TAGS,
    )
    def patch(self, request: Request, slug: str) -> Response:
        letter = self.letter(slug, EDIT_LETTER)
        changes = self.valid(LetterUpdateInputSerializer)
        if "recipients" in changes:
            changes["recipients"] = recipient_pairs(changes["recipients"])
        return self.letter_answer(letter_draft_edit(letter=letter, changes=changes, actor=request.user))


class ScheduleView(ManageView):
    @extend_schema(
        summary="Schedule the launch: the letter stays hidden from the public until publish_at",
        request=ScheduleInputSerializer,
        responses={200: ManagedLetterSerializer, **MANAGE_ERRORS},
        tags=TAGS,
    )
    def post(self, request: Request, slug: str) -> Response:
        letter = self.letter(slug, RUN_LETTER)
        data = self.valid(ScheduleInputSerializer)
        return self.letter_answer(letter_schedule(letter=letter, publish_at=data["publish_at"], actor=request.user))


def _transition_view(service: Callable[..., Letter], summary: str) -> type[ManageView]:
    class TransitionView(ManageView):
        @extend_schema(
            summary=summary, request=None, responses={200: ManagedLetterSerializer, **MANAGE_ERRORS}, tags=TAGS
        )
        def post(self, request: Request, slug: str) -> Response:
            letter = self.letter(slug, RUN_LETTER)
            return self.letter_answer(service(letter=letter, actor=request.user))

    TransitionView.__name__ = TransitionView.__qualname__ = f"{service.__name__.title().replace('_', '')}View"
    return TransitionView


OpenView = _transition_view(letter_open, "Open the letter now (launch, or resume after a pause)")
PauseView = _transition_view(letter_pause, "Pause signing (signing answers 409 until reopened)")
CloseView = _transition_view(letter_close, "Close the letter: the final count is frozen")


class VersionPublishView(ManageView):
    @extend_schema(
        summary="Publish a new version of the text (editorial or material; material asks signers to re-consent)",
        request=VersionInputSerializer,
        responses={201: ManagedVersionSerializer, **MANAGE_ERRORS},
        tags=TAGS,
    )
    def post(self, request: Request, slug: str) -> Response:
        letter = self.letter(slug, EDIT_LETTER)
        data = self.valid(VersionInputSerializer)
        version = letter_version_publish(
            letter=letter, body=data["body"], kind=data["kind"], note=data["note"], actor=request.user
        )
        return Response(ManagedVersionSerializer(version).data, status=status.HTTP_201_CREATED)


class DashboardView(ManageView):
    @extend_schema(
        summary="Live counts by level and version, the held queue, recent signatures and private exports",
        responses={200: DashboardSerializer, **MANAGE_ERRORS},
        tags=TAGS,
    )
    def get(self, request: Request, slug: str) -> Response:
        letter = self.letter(slug, VIEW_LETTER)
        private = can(request.user, EXPORT_PRIVATE, letter)
        dashboard = letter_dashboard(letter=letter)
        moderate = can(request.user, MODERATE_LETTER, letter)
        context = {"private": private, "roles": {letter.pk: member_role(request.user, letter)}}
        body = {
            "letter": dashboard.letter,
            "counts": dashboard.counts,
            "held": dashboard.held,
            "recent": dashboard.recent,
            "exports": dashboard.exports,
            "alerts": list(alerts_of_letter(letter=letter)[:ALERTS_SHOWN]) if moderate else [],
            "private": private,
        }
        return Response(DashboardSerializer(body, context=context).data)


class HeldListView(ManageView):
    pagination_class = StaffPagePagination

    @extend_schema(
        summary="The letter's held queue, oldest first, with why each is held (numbered pages; filters narrow it)",
        parameters=[OpenApiParameter(name, OpenApiTypes.STR, required=False) for name in HELD_FILTERS],
        responses={200: ManagedSignatureSerializer(many=True), **MANAGE_ERRORS},
        tags=TAGS,
    )
    def get(self, request: Request, slug: str) -> Response:
        letter = self.letter(slug, VIEW_LETTER)
        paginator = self.pagination_class()
        held = held_queryset(letter=letter, filters=held_filters_clean(request.query_params, letter=letter))
        page = paginator.paginate_queryset(held, request, view=self)
        context = {"private": can(request.user, EXPORT_PRIVATE, letter)}
        return paginator.get_paginated_response(ManagedSignatureSerializer(page, many=True, context=context).data)


class ModerationView(ManageView):
    def answer(self, request: Request, letter: Letter, signature: Signature) -> Response:
        private = can(request.user, EXPORT_PRIVATE, letter)
        signature.refresh_from_db()
        return Response(ManagedSignatureSerializer(signature, context={"private": private}).data)


class HoldView(ModerationView):
    @extend_schema(
        summary="Hold a signature for review (out of public view)",
        request=None,
        responses={200: ManagedSignatureSerializer, **MANAGE_ERRORS},
        tags=TAGS,
    )
    def post(self, request: Request, slug: str, public_id: str) -> Response:
        letter = self.letter(slug, MODERATE_LETTER)
        signature = self.signature(letter, public_id)
        if signature.status not in Signature.LIVE_STATUSES:
            raise Conflict("Only pending or confirmed signatures can be held.")
        return self.answer(request, letter, signature_hold(signature=signature, actor=request.user))


class ReleaseView(ModerationView):
    @extend_schema(
        summary="Release a held signature without raising its level",
        request=None,
        responses={200: ManagedSignatureSerializer, **MANAGE_ERRORS},
        tags=TAGS,
    )
    def post(self, request: Request, slug: str, public_id: str) -> Response:
        letter = self.letter(slug, MODERATE_LETTER)
        signature = self.signature(letter, public_id)
        if not signature.hold_reason:
            raise Conflict("This signature is not held.")
        return self.answer(request, letter, signature_release(signature=signature, actor=request.user))


class VerifyView(ModerationView):
    @extend_schema(
        summary="Verify a signature with evidence (releases a hold)",
        request=VerifyInputSerializer,
        responses={200: ManagedSignatureSerializer, **MANAGE_ERRORS},
        tags=TAGS,
    )
    def post(self, request: Request, slug: str, public_id: str) -> Response:
        letter = self.letter(slug, MODERATE_LETTER)
        signature = self.signature(letter, public_id)
        data = self.valid(VerifyInputSerializer)
        verified = signature_verify_manual(
            signature=signature,
            method=data["method"],
            evidence=data["evidence"],
            evidence_url=data.get("evidence_url", ""),
            verifier=request.user,
        )
        return self.answer(request, letter, verified)


class RejectView(ModerationView):
    @extend_schema(
        summary="Reject a signature: removed from public view, with a private reason",
        request=RejectInputSerializer,
        responses={200: ManagedSignatureSerializer, **MANAGE_ERRORS},
        tags=TAGS,
    )
    def post(self, request: Request, slug: str, public_id: str) -> Response:
        letter = self.letter(slug, MODERATE_LETTER)
        signature = self.signature(letter, public_id)
        data = self.valid(RejectInputSerializer)
        rejected = signature_reject(
            signature=signature,
            reason=data["reason"],
            public_reason=data.get("public_reason", ""),
            actor=request.user,
        )
        return self.answer(request, letter, rejected)


class PrivateExportView(ManageView):
    fmt = "csv"

    @extend_schema(
        summary="Export confirmed signatures with their emails (owners and editors; each export is audited)",
        responses={
            (200, "text/csv"): OpenApiTypes.STR,
            (200, "application/json"): OpenApiTypes.OBJECT,
            **MANAGE_ERRORS,
        },
        tags=TAGS,
    )
    def get(self, request: Request, slug: str) -> HttpResponse:
        letter = self.letter(slug, EXPORT_PRIVATE)
        fmt = self.fmt
        export = private_export_create(letter=letter, fmt=fmt, actor=request.user)
        content_type = "text/csv; charset=utf-8" if fmt == "csv" else "application/json"
        response = HttpResponse(export.content, content_type=content_type)
        stamp = export.exported_at.strftime("%Y%m%dT%H%M%SZ")
        response["Content-Disposition"] = f'attachment; filename="{letter.slug}-private-{stamp}.{fmt}"'
        response["X-Export-Rows"] = str(export.rows)
        response["Cache-Control"] = "private, no-store"
        return response


SIGNATURE = "letters/<slug:slug>/signatures/<public_id:public_id>"
urlpatterns = [
    path("manage/letters/", LetterListView.as_view(), name="api-manage-letters"),
    path("manage/preview", PreviewView.as_view(), name="api-manage-preview"),
    path("manage/letters/<slug:slug>/", LetterDetailView.as_view(), name="api-manage-letter"),
    path("manage/letters/<slug:slug>/schedule", ScheduleView.as_view(), name="api-manage-schedule"),
    path("manage/letters/<slug:slug>/open", OpenView.as_view(), name="api-manage-open"),
    path("manage/letters/<slug:slug>/pause", PauseView.as_view(), name="api-manage-pause"),
    path("manage/letters/<slug:slug>/close", CloseView.as_view(), name="api-manage-close"),
    path("manage/letters/<slug:slug>/versions/", VersionPublishView.as_view(), name="api-manage-versions"),
    path("manage/letters/<slug:slug>/dashboard", DashboardView.as_view(), name="api-manage-dashboard"),
    path("manage/letters/<slug:slug>/export.csv", PrivateExportView.as_view(fmt="csv"), name="api-manage-export-csv"),
    path(
        "manage/letters/<slug:slug>/export.json", PrivateExportView.as_view(fmt="json"), name="api-manage-export-json"
    ),
    path("manage/letters/<slug:slug>/held/", HeldListView.as_view(), name="api-manage-held"),
    path(f"manage/{SIGNATURE}/hold", HoldView.as_view(), name="api-manage-hold"),
    path(f"manage/{SIGNATURE}/release", ReleaseView.as_view(), name="api-manage-release"),
    path(f"manage/{SIGNATURE}/verify", VerifyView.as_view(), name="api-manage-verify"),
    path(f"manage/{SIGNATURE}/reject", RejectView.as_view(), name="api-manage-reject"),
]
