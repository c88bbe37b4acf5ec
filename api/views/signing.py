"""Signing API: sign, confirm, withdraw. Anonymous JSON endpoints (no session, so no CSRF)."""

from django.http import Http404
from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.serializers.public import PublicSignatureSerializer
from api.serializers.signing import DetailSerializer, ErrorSerializer, SignInputSerializer, TokenInputSerializer
from letters.models import Signature
from letters.selectors import letter_copies_forget, letter_for_signing
from letters.services.idempotency import IdempotencyConflict, idempotent_call
from letters.services.ratelimit import client_ip
from letters.services.reconsent import signature_reconsent_by_token
from letters.services.signing import (
    SIGN_ACCEPTED_DETAIL,
    LetterNotAccepting,
    not_accepting_message,
    signature_confirm_by_token,
    signature_create,
    signature_withdraw_by_token,
)
from letters.services.tokens import TokenInvalid

WITHDRAWN_DETAIL = "Your signature has been withdrawn."


def _error(message: str, code: int, errors: dict | None = None) -> Response:
    return Response({"detail": message, "errors": errors or {}}, status=code)


class AnonymousJSONView(APIView):
    authentication_classes: list = []
    throttle_classes: list = []


class SignView(AnonymousJSONView):
    @extend_schema(
        operation_id="letters_sign",
        summary="Sign a letter",
        description=(
            "Always answers 202 for well-formed input to an open letter, whether the address is new, pending or "
            "already confirmed: it never reveals that an address signed. The signer confirms from the email."
        ),
        request=SignInputSerializer,
        parameters=[
            OpenApiParameter(
                "Idempotency-Key",
                OpenApiTypes.STR,
                OpenApiParameter.HEADER,
                description="Replays get the first answer.",
            )
        ],
        responses={
            202: DetailSerializer,
            400: OpenApiResponse(ErrorSerializer, description="Invalid input, with field errors."),
            404: OpenApiResponse(ErrorSerializer, description="Unknown, draft or scheduled (embargoed) letter."),
            409: OpenApiResponse(ErrorSerializer, description="The letter is paused or closed."),
            422: OpenApiResponse(ErrorSerializer, description="Idempotency-Key reused with another body."),
        },
        tags=["signing"],
    )
    def post(self, request: Request, slug: str) -> Response:
        letter = letter_for_signing(slug=slug)
        if letter is None:
            raise Http404
        if not letter.is_accepting_signatures:
            return _error(not_accepting_message(letter.status), status.HTTP_409_CONFLICT)
        key = request.headers.get("Idempotency-Key", "")
        if "Idempotency-Key" in request.headers and not key.strip():  # sent, but empty: a client's bug, not "no key"
            return _error("Invalid input.", 400, {"Idempotency-Key": ["Empty; send a unique key, or no header."]})
        if len(key) > 200:
            return _error("Invalid input.", 400, {"Idempotency-Key": ["At most 200 characters."]})
        if not key.isprintable():  # stored as text: NUL would be a database error
            return _error("Invalid input.", 400, {"Idempotency-Key": ["Printable characters only."]})
        serializer = SignInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data

        def sign() -> tuple[int, dict]:
            signature_create(
                letter=letter,
                name=data["name"],
                email=data["email"],
                title=data.get("title", ""),
                organization_name=data.get("organization", ""),
                name_shown=data.get("public", True),
                comment=data.get("comment", ""),
                source=Signature.Source.API,
                ip_address=client_ip(request.META),
            )
            return status.HTTP_202_ACCEPTED, {"detail": SIGN_ACCEPTED_DETAIL}

        try:
            if key:
                code, body = idempotent_call(scope=f"sign:{letter.pk}", key=key, payload=request.data, call=sign)
            else:
                code, body = sign()
        except LetterNotAccepting as refused:
            letter_copies_forget(slug=slug)
            return _error(refused.message, status.HTTP_409_CONFLICT)
        except IdempotencyConflict:
            return _error(IdempotencyConflict.message, status.HTTP_422_UNPROCESSABLE_ENTITY)
        return Response(body, status=code)


class ConfirmView(AnonymousJSONView):
    @extend_schema(
        operation_id="signatures_confirm",
        summary="Confirm a signature with the token from the email",
        request=TokenInputSerializer,
        responses={200: PublicSignatureSerializer, 400: ErrorSerializer},
        tags=["signing"],
    )
    def post(self, request: Request) -> Response:
        serializer = TokenInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            signature = signature_confirm_by_token(token=serializer.validated_data["token"])
        except TokenInvalid:
            return _error(TokenInvalid.message, status.HTTP_400_BAD_REQUEST, {"token": [TokenInvalid.message]})
        signature = Signature.objects.select_related("organization", "verification", "version").get(pk=signature.pk)
        return Response(PublicSignatureSerializer(signature).data)


class WithdrawView(AnonymousJSONView):
    @extend_schema(
        operation_id="signatures_withdraw",
        summary="Withdraw a signature with the token from the email",
        description="The signature leaves every public list, count and export; its email and comment are erased.",
        request=TokenInputSerializer,
        responses={200: DetailSerializer, 400: ErrorSerializer},
        tags=["signing"],
    )
    def post(self, request: Request) -> Response:
        serializer = TokenInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            signature_withdraw_by_token(token=serializer.validated_data["token"])
        except TokenInvalid:
            return _error(TokenInvalid.message, status.HTTP_400_BAD_REQUEST, {"token": [TokenInvalid.message]})
        return Response({"detail": WITHDRAWN_DETAIL})


class ReconsentView(AnonymousJSONView):
    @extend_schema(
        operation_id="signatures_reconsent",
        summary="Sign the current text of a letter whose text changed materially, with the token from the email",
        description=(
            'Binds the signature to the letter\'s current version (it stops being listed as "signed version N"). '
            "To refuse the new text, withdraw instead."
        ),
        request=TokenInputSerializer,
        responses={200: PublicSignatureSerializer, 400: ErrorSerializer},
        tags=["signing"],
    )
    def post(self, request: Request) -> Response:
        serializer = TokenInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            signature = signature_reconsent_by_token(token=serializer.validated_data["token"])
        except TokenInvalid:
            return _error(TokenInvalid.message, status.HTTP_400_BAD_REQUEST, {"token": [TokenInvalid.message]})
        signature = Signature.objects.select_related("organization", "verification", "version", "letter").get(
            pk=signature.pk
        )
        return Response(PublicSignatureSerializer(signature).data)


# POST letters/{slug}/signatures/ shares its URL with the public list: see api.views.reporter.LetterSignaturesView.
urlpatterns = [
    path("signatures/confirm/", ConfirmView.as_view(), name="api-signature-confirm"),
    path("signatures/withdraw/", WithdrawView.as_view(), name="api-signature-withdraw"),
    path("signatures/reconsent/", ReconsentView.as_view(), name="api-signature-reconsent"),
]
