"""Staff API: the held queue (list, hold, release), verify or reject signatures, review duplicate people. Token or
session auth; staff only, and every change needs the staff user to have set up two-factor login
(organizing.permissions: owners and staff act only with a second factor; reading is never gated)."""

from django.shortcuts import get_object_or_404
from django.urls import path
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.generics import ListAPIView
from rest_framework.permissions import BasePermission, IsAdminUser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.pagination import StaffPagePagination
from api.serializers.signing import ErrorSerializer
from api.serializers.staff import (
    DuplicateCandidateSerializer,
    RejectInputSerializer,
    StaffHeldSignatureSerializer,
    StaffSignatureSerializer,
    VerifyInputSerializer,
)
from config import converters  # noqa: F401  registers <public_id:…> and <num:…>
from letters.models import Signature
from letters.services.verification import (
    VerificationError,
    signature_hold,
    signature_reject,
    signature_release,
    signature_verify_manual,
)
from organizing.dashboard import signatures_held
from organizing.permissions import SECOND_FACTOR_MESSAGE, has_second_factor
from registry.merge import MergeError, duplicate_dismiss, duplicate_merge
from registry.models import DuplicateCandidate
from registry.selectors import duplicate_candidates

STAFF_ERRORS = {
    400: ErrorSerializer,
    401: OpenApiResponse(ErrorSerializer, description="Not authenticated."),
    403: OpenApiResponse(ErrorSerializer, description="Not staff, or (for a change) no two-factor login set up."),
    404: ErrorSerializer,
    409: OpenApiResponse(ErrorSerializer, description="Not possible in the current state."),
}


class HasSecondFactor(BasePermission):
    message = SECOND_FACTOR_MESSAGE

    def has_permission(self, request: Request, view: APIView) -> bool:
        return has_second_factor(request.user)


class StaffView(APIView):
    """A change by staff: staff only (IsAdminUser answers non-staff first), with a second factor."""

    permission_classes = [IsAdminUser, HasSecondFactor]


def _conflict(exc: Exception) -> Response:
    return Response({"detail": str(exc), "errors": {}}, status=status.HTTP_409_CONFLICT)


class SignatureVerifyView(StaffView):
    @extend_schema(
        summary="Verify a signature manually, with evidence (releases a hold)",
        request=VerifyInputSerializer,
        responses={200: StaffSignatureSerializer, **STAFF_ERRORS},
        tags=["staff"],
    )
    def post(self, request: Request, public_id: str) -> Response:
        signature = get_object_or_404(Signature, public_id=public_id)
        data = VerifyInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            signature = signature_verify_manual(
                signature=signature,
                method=data.validated_data["method"],
                evidence=data.validated_data["evidence"],
                evidence_url=data.validated_data.get("evidence_url", ""),
                verifier=request.user,
            )
        except VerificationError as exc:
            return _conflict(exc)
        return Response(StaffSignatureSerializer(signature).data)


class SignatureRejectView(StaffView):
    @extend_schema(
        summary="Reject a signature: removed from public view, with a private reason",
        request=RejectInputSerializer,
        responses={200: StaffSignatureSerializer, **STAFF_ERRORS},
        tags=["staff"],
    )
    def post(self, request: Request, public_id: str) -> Response:
        signature = get_object_or_404(Signature, public_id=public_id)
        data = RejectInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            signature = signature_reject(
                signature=signature,
                reason=data.validated_data["reason"],
                public_reason=data.validated_data.get("public_reason", ""),
                actor=request.user,
            )
        except VerificationError as exc:
            return _conflict(exc)
        return Response(StaffSignatureSerializer(signature).data)


class HeldListView(ListAPIView):
    permission_classes = [IsAdminUser]
    serializer_class = StaffHeldSignatureSerializer
    pagination_class = StaffPagePagination

    def get_queryset(self):
        letter = self.request.query_params.get("letter")
        if letter == "":
            raise ValidationError({"letter": ["This field may not be blank."]})
        return signatures_held(letter_slug=letter)

    @extend_schema(
        summary="Held signatures (out of public view until reviewed), oldest first, with why each is held",
        parameters=[OpenApiParameter("letter", str, description="Only this letter's (its slug).")],
        responses={200: StaffHeldSignatureSerializer(many=True), **STAFF_ERRORS},
        tags=["staff"],
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class SignatureHoldView(StaffView):
    @extend_schema(
        summary="Hold a signature for review (out of public view until released, verified or rejected)",
        request=None,
        responses={200: StaffSignatureSerializer, **STAFF_ERRORS},
        tags=["staff"],
    )
    def post(self, request: Request, public_id: str) -> Response:
        signature = get_object_or_404(Signature, public_id=public_id)
        if signature.status not in Signature.LIVE_STATUSES:
            return _conflict(VerificationError("Only pending or confirmed signatures can be held."))
        return Response(StaffSignatureSerializer(signature_hold(signature=signature, actor=request.user)).data)


class SignatureReleaseView(StaffView):
    @extend_schema(
        summary="Release a held signature without raising its level",
        request=None,
        responses={200: StaffSignatureSerializer, **STAFF_ERRORS},
        tags=["staff"],
    )
    def post(self, request: Request, public_id: str) -> Response:
        signature = get_object_or_404(Signature, public_id=public_id)
        if not signature.hold_reason:
            return _conflict(VerificationError("This signature is not held."))
        try:
            released = signature_release(signature=signature, actor=request.user)
        except VerificationError as exc:
            return _conflict(exc)
        return Response(StaffSignatureSerializer(released).data)


class DuplicateListView(ListAPIView):
    permission_classes = [IsAdminUser]
    serializer_class = DuplicateCandidateSerializer
    pagination_class = StaffPagePagination

    def get_queryset(self):
        status_filter = self.request.query_params.get("status", DuplicateCandidate.Status.OPEN)
        if status_filter not in DuplicateCandidate.Status.values:
            raise ValidationError({"status": [f"Choose one of {', '.join(DuplicateCandidate.Status.values)}."]})
        return duplicate_candidates(status=status_filter)

    @extend_schema(
        summary="Duplicate candidates (open by default)",
        parameters=[OpenApiParameter("status", str, enum=DuplicateCandidate.Status.values, default="open")],
        responses={200: DuplicateCandidateSerializer(many=True), **STAFF_ERRORS},
        tags=["staff"],
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class DuplicateMergeView(StaffView):
    @extend_schema(
        summary="Merge a duplicate pair (the older person survives)",
        request=None,
        responses={200: DuplicateCandidateSerializer, **STAFF_ERRORS},
        tags=["staff"],
    )
    def post(self, request: Request, pk: int) -> Response:
        candidate = get_object_or_404(DuplicateCandidate.objects.select_related("person_a", "person_b"), pk=pk)
        try:
            duplicate_merge(candidate=candidate, actor=request.user)
        except MergeError as exc:
            return _conflict(exc)
        candidate.refresh_from_db()
        return Response(DuplicateCandidateSerializer(candidate).data)


class DuplicateDismissView(StaffView):
    @extend_schema(
        summary="Dismiss a duplicate pair as different people",
        request=None,
        responses={200: DuplicateCandidateSerializer, **STAFF_ERRORS},
        tags=["staff"],
    )
    def post(self, request: Request, pk: int) -> Response:
        candidate = get_object_or_404(DuplicateCandidate, pk=pk)
        if candidate.status != DuplicateCandidate.Status.OPEN:
            return _conflict(MergeError("This candidate was already decided."))
        duplicate_dismiss(candidate=candidate, actor=request.user)
        return Response(DuplicateCandidateSerializer(candidate).data)


urlpatterns = [
    path("signatures/held/", HeldListView.as_view(), name="api-signature-held"),
    path("signatures/<public_id:public_id>/hold", SignatureHoldView.as_view(), name="api-signature-hold"),
    path("signatures/<public_id:public_id>/release", SignatureReleaseView.as_view(), name="api-signature-release"),
    path("signatures/<public_id:public_id>/verify", SignatureVerifyView.as_view(), name="api-signature-verify"),
    path("signatures/<public_id:public_id>/reject", SignatureRejectView.as_view(), name="api-signature-reject"),
    path("duplicates/", DuplicateListView.as_view(), name="api-duplicate-list"),
    path("duplicates/<num:pk>/merge", DuplicateMergeView.as_view(), name="api-duplicate-merge"),
    path("duplicates/<num:pk>/dismiss", DuplicateDismissView.as_view(), name="api-duplicate-dismiss"),
]
