"""Organizers' imports (/api/v1/manage/letters/{slug}/imports/…): upload and preview, mapping, start in a mode,
progress, rejected rows, discard, stop, undo. Owners, editors and staff (organizing.permissions.EDIT_LETTER); another
letter's import is a 404 like everything of another letter."""

from typing import Any

from django.conf import settings
from django.http import HttpResponse
from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, status
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from api.parsers import JSONParser
from api.serializers.manage_imports import (
    ImportMappingInputSerializer,
    ImportPreviewSerializer,
    ImportSerializer,
    ImportStartInputSerializer,
    ImportUploadInputSerializer,
    SignerInvitationInputSerializer,
    SignerInvitationListSerializer,
    SignerInvitationSerializer,
)
from api.views.manage import MANAGE_ERRORS, TAGS, Conflict, ManageView
from config import converters  # noqa: F401  registers <public_id:…> and <num:…>
from importing.invitations import InvitationNotAllowed, invitation_remind, invitation_revoke, signer_invitation_create
from importing.jobs import import_stop
from importing.models import SignatureImport
from importing.preview import RowStatus
from importing.selectors import (
    import_of_letter,
    imports_of_letter,
    invitation_counts,
    invitation_of_letter,
    invitations_of_letter,
    rejected_rows_csv,
)
from importing.services import (
    ImportNotAllowed,
    Uploaded,
    import_discard,
    import_mapping_set,
    import_preview,
    import_start,
    import_undo,
    import_upload,
)
from letters.models import Letter
from organizing.permissions import EDIT_LETTER

ROWS_SHOWN = 1000
STATUS_FILTER = OpenApiParameter(
    "status", str, enum=list(RowStatus.ALL), description="Only rows with this status (default: every row)."
)


class ImportView(ManageView):
    def handle_exception(self, exc: Exception) -> Response:
        if isinstance(exc, ImportNotAllowed | InvitationNotAllowed):
            exc = Conflict(exc.message)
        return super().handle_exception(exc)

    def found(self, slug: str, import_id: str) -> tuple[Letter, SignatureImport]:
        letter = self.letter(slug, EDIT_LETTER)
        return letter, import_of_letter(letter=letter, public_id=import_id)

    def preview_answer(self, uploaded: Uploaded, code: int = status.HTTP_200_OK) -> Response:
        wanted = self.request.query_params.get("status", "")
        if wanted and wanted not in RowStatus.ALL:
            raise exceptions.ValidationError({"status": [f"One of {', '.join(RowStatus.ALL)}."]})
        rows = uploaded.preview.rows if uploaded.preview else []
        if wanted:
            rows = [row for row in rows if row.status == wanted]
        data = {
            "signature_import_obj": uploaded.signature_import,
            "headers": uploaded.headers(),
            "read_as": uploaded.read_as(),
            "mapping_errors": uploaded.mapping_errors,
            "rows": rows[:ROWS_SHOWN],
            "rows_shown": min(len(rows), ROWS_SHOWN),
            "people_checked": uploaded.preview.people_checked if uploaded.preview else None,
        }
        return Response(ImportPreviewSerializer(data).data, status=code)


class ImportListView(ImportView):
    parser_classes = [MultiPartParser]

    @extend_schema(
        summary="The letter's imports, newest first",
        responses={200: ImportSerializer(many=True), **MANAGE_ERRORS},
        tags=TAGS,
    )
    def get(self, request: Request, slug: str) -> Response:
        letter = self.letter(slug, EDIT_LETTER)
        return Response(ImportSerializer(imports_of_letter(letter=letter), many=True).data)

    @extend_schema(
        summary="Upload a spreadsheet: nothing is imported yet; the answer is the preview of every row",
        request={"multipart/form-data": ImportUploadInputSerializer},
        responses={201: ImportPreviewSerializer, **MANAGE_ERRORS},
        tags=TAGS,
    )
    def post(self, request: Request, slug: str) -> Response:
        letter = self.letter(slug, EDIT_LETTER)
        data = self.valid(ImportUploadInputSerializer)
        upload = data["file"]
        if upload.size is not None and upload.size > settings.IMPORT_MAX_BYTES:
            raise exceptions.ValidationError(
                {"file": [f"The file is {upload.size:,} bytes; the limit is {settings.IMPORT_MAX_BYTES:,} bytes."]}
            )
        mapping = data.get("mapping")
        if mapping is not None and not isinstance(mapping, dict):
            raise exceptions.ValidationError({"mapping": ['An object such as {"name": 0, "email": 1}.']})
        uploaded = import_upload(
            letter=letter, data=upload.read(), filename=upload.name or "upload", actor=request.user, mapping=mapping
        )
        return self.preview_answer(uploaded, status.HTTP_201_CREATED)


class ImportDetailView(ImportView):
    @extend_schema(
        summary="One import: its state and progress, and while in preview its rows checked anew",
        parameters=[STATUS_FILTER],
        responses={200: ImportPreviewSerializer, **MANAGE_ERRORS},
        tags=TAGS,
    )
    def get(self, request: Request, slug: str, import_id: str) -> Response:
        _, signature_import = self.found(slug, import_id)
        if signature_import.status == SignatureImport.Status.PREVIEW:
            return self.preview_answer(import_preview(signature_import=signature_import))
        return self.preview_answer(Uploaded(signature_import=signature_import, preview=None, mapping_errors={}))


class ImportMappingView(ImportView):
    parser_classes = [JSONParser]

    @extend_schema(
        summary="Change which column holds which field (while in preview)",
        request=ImportMappingInputSerializer,
        responses={200: ImportPreviewSerializer, **MANAGE_ERRORS},
        tags=TAGS,
    )
    def put(self, request: Request, slug: str, import_id: str) -> Response:
        _, signature_import = self.found(slug, import_id)
        mapping = self.valid(ImportMappingInputSerializer)["mapping"]
        return self.preview_answer(
            import_mapping_set(signature_import=signature_import, mapping=dict(mapping), actor=request.user)
        )


class ImportStartView(ImportView):
    parser_classes = [JSONParser]

    @extend_schema(
        summary="Start the import in the chosen mode (confirm by email, or vouched); it runs as a job",
        request=ImportStartInputSerializer,
        responses={202: ImportSerializer, **MANAGE_ERRORS},
        tags=TAGS,
    )
    def post(self, request: Request, slug: str, import_id: str) -> Response:
        _, signature_import = self.found(slug, import_id)
        mode = self.valid(ImportStartInputSerializer)["mode"]
        import_start(signature_import=signature_import, mode=mode, actor=request.user)
        signature_import.refresh_from_db()
        return Response(ImportSerializer(signature_import).data, status=status.HTTP_202_ACCEPTED)


def _action_view(action: Any, summary: str) -> type[ImportView]:
    class ActionView(ImportView):
        parser_classes = [JSONParser]

        @extend_schema(summary=summary, request=None, responses={200: ImportSerializer, **MANAGE_ERRORS}, tags=TAGS)
        def post(self, request: Request, slug: str, import_id: str) -> Response:
            _, signature_import = self.found(slug, import_id)
            action(signature_import=signature_import, actor=request.user)
            signature_import.refresh_from_db()
            return Response(ImportSerializer(signature_import).data)

    return ActionView


class ImportRejectedView(ImportView):
    @extend_schema(
        summary="The rows that would not be imported, with their row number and the reason (CSV)",
        responses={(200, "text/csv"): OpenApiTypes.STR, **MANAGE_ERRORS},
        tags=TAGS,
    )
    def get(self, request: Request, slug: str, import_id: str) -> HttpResponse:
        _, signature_import = self.found(slug, import_id)
        if not signature_import.content:
            raise Conflict("The file of this import is no longer kept (it has run or was discarded).")
        preview = import_preview(signature_import=signature_import)
        if preview.preview is None:
            raise exceptions.ValidationError(preview.mapping_errors)
        table = preview.file_table()
        assert table is not None  # a preview is built from it
        body = rejected_rows_csv(headers=table.headers, rows=table.rows, numbers=table.numbers, preview=preview.preview)
        response = HttpResponse(body, content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="rejected-{signature_import.public_id}.csv"'
        return response


INVITATIONS_SHOWN = 1000


class SignerInvitationListView(ImportView):
    parser_classes = [JSONParser]

    @extend_schema(
        summary="Signer invitations of the letter, newest first, with counts by state",
        responses={200: SignerInvitationListSerializer, **MANAGE_ERRORS},
        tags=TAGS,
    )
    def get(self, request: Request, slug: str) -> Response:
        letter = self.letter(slug, EDIT_LETTER)
        invitations = invitations_of_letter(letter=letter).select_related("signature_import")[:INVITATIONS_SHOWN]
        data = {"counts": invitation_counts(letter=letter), "invitations": invitations}
        return Response(SignerInvitationListSerializer(data).data)

    @extend_schema(
        summary="Invite a named person to sign with one click (emailed a single-use link)",
        request=SignerInvitationInputSerializer,
        responses={201: SignerInvitationSerializer, **MANAGE_ERRORS},
        tags=TAGS,
    )
    def post(self, request: Request, slug: str) -> Response:
        letter = self.letter(slug, EDIT_LETTER)
        data = self.valid(SignerInvitationInputSerializer)
        issued = signer_invitation_create(letter=letter, actor=request.user, **data)
        return Response(SignerInvitationSerializer(issued.invitation).data, status=status.HTTP_201_CREATED)


def _invitation_view(action: Any, summary: str) -> type[ImportView]:
    class InvitationActionView(ImportView):
        parser_classes = [JSONParser]

        @extend_schema(
            summary=summary, request=None, responses={200: SignerInvitationSerializer, **MANAGE_ERRORS}, tags=TAGS
        )
        def post(self, request: Request, slug: str, invitation_id: str) -> Response:
            letter = self.letter(slug, EDIT_LETTER)
            invitation = invitation_of_letter(letter=letter, public_id=invitation_id)
            action(invitation=invitation, actor=request.user)
            invitation.refresh_from_db()
            return Response(SignerInvitationSerializer(invitation).data)

    return InvitationActionView


IMPORT = "manage/letters/<slug:slug>/imports/<public_id:import_id>/"
INVITATION = "manage/letters/<slug:slug>/signer-invitations/<public_id:invitation_id>/"
urlpatterns = [
    path("manage/letters/<slug:slug>/imports/", ImportListView.as_view(), name="api-manage-imports"),
    path(IMPORT, ImportDetailView.as_view(), name="api-manage-import"),
    path(f"{IMPORT}mapping", ImportMappingView.as_view(), name="api-manage-import-mapping"),
    path(f"{IMPORT}start", ImportStartView.as_view(), name="api-manage-import-start"),
    path(
        f"{IMPORT}discard",
        _action_view(import_discard, "Discard an import still in preview").as_view(),
        name="api-manage-import-discard",
    ),
    path(
        f"{IMPORT}undo",
        _action_view(import_undo, "Undo a finished import: its signatures leave the letter").as_view(),
        name="api-manage-import-undo",
    ),
    path(
        f"{IMPORT}stop",
        _action_view(import_stop, "Stop a queued or running import at its next batch (what it wrote stays)").as_view(),
        name="api-manage-import-stop",
    ),
    path(f"{IMPORT}rejected.csv", ImportRejectedView.as_view(), name="api-manage-import-rejected"),
    path(
        "manage/letters/<slug:slug>/signer-invitations/",
        SignerInvitationListView.as_view(),
        name="api-manage-signer-invitations",
    ),
    path(
        f"{INVITATION}revoke",
        _invitation_view(invitation_revoke, "Revoke an invitation: its link stops working").as_view(),
        name="api-manage-signer-invitation-revoke",
    ),
    path(
        f"{INVITATION}remind",
        _invitation_view(invitation_remind, "Send the invitation again with a new link (capped)").as_view(),
        name="api-manage-signer-invitation-remind",
    ),
]
