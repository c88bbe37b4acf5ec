"""Organizers' import pages (/manage/<slug>/imports/…): upload, preview with the mapping, start in a chosen mode,
progress (a <progress> bar that refreshes itself without JavaScript and updates live with it), rejected rows,
discard, stop and undo. Owners, editors and staff (EDIT_LETTER); another letter's import is a 404."""

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.views.decorators.http import require_http_methods, require_POST

from importing.invitations import (
    InvitationNotAllowed,
    invitation_remind,
    invitation_revoke,
    signer_invitation_create,
)
from importing.jobs import import_stop
from importing.mapping import FIELD_LABELS, FIELDS
from importing.models import SignatureImport
from importing.preview import RowStatus
from importing.selectors import (
    import_of_letter,
    import_outcomes,
    import_progress,
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
from letters.typed_text import MAX_LENGTH
from organizing.permissions import EDIT_LETTER
from web.forms import guarded
from web.views.manage import member_page

ROWS_SHOWN = 200


class UploadForm(forms.Form):
    file = forms.FileField(label="Spreadsheet (CSV or .xlsx)")


class StartForm(forms.Form):
    mode = forms.ChoiceField(
        label="How are these signers confirmed?", choices=SignatureImport.Mode.choices, widget=forms.RadioSelect
    )


def _detail_url(signature_import: SignatureImport) -> str:
    return reverse(
        "manage-import", kwargs={"slug": signature_import.letter.slug, "import_id": signature_import.public_id}
    )


def _errors(exc: ValidationError) -> list[str]:
    if hasattr(exc, "error_dict"):
        return [f"{message}" for messages_ in exc.message_dict.values() for message in messages_]
    return list(exc.messages)


@member_page(EDIT_LETTER)
@require_http_methods(["GET", "POST"])
def imports(request: HttpRequest, letter: Letter) -> HttpResponse:
    form = UploadForm(request.POST or None, request.FILES or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            upload = form.cleaned_data["file"]
            if upload.size > settings.IMPORT_MAX_BYTES:
                form.add_error(
                    "file", f"The file is {upload.size:,} bytes; the limit is {settings.IMPORT_MAX_BYTES:,}."
                )
            else:
                try:
                    uploaded = import_upload(
                        letter=letter, data=upload.read(), filename=upload.name or "upload", actor=request.user
                    )
                except ValidationError as exc:
                    for message in _errors(exc):
                        form.add_error("file", message)
                else:
                    return redirect(_detail_url(uploaded.signature_import))
        status = 400
    context = {"letter": letter, "form": form, "imports": imports_of_letter(letter=letter)[:50]}
    return render(request, "web/manage/imports.html", context, status=status)


DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "vertical bar"}


def _read_as_text(read_as: dict[str, str] | None) -> str:
    if read_as is None:
        return ""
    if read_as["kind"] == "xlsx":
        return "an Excel workbook (values only)"
    delimiter = DELIMITER_NAMES.get(read_as["delimiter"], read_as["delimiter"])
    return f"CSV in {read_as['encoding']}, {delimiter}-separated"


def _detail_context(request: HttpRequest, letter: Letter, uploaded: Uploaded, **extra: Any) -> dict[str, Any]:
    signature_import = uploaded.signature_import
    wanted = request.GET.get("status", "")
    rows = uploaded.preview.rows if uploaded.preview else []
    shown = [row for row in rows if not wanted or row.status == wanted]
    headers = uploaded.headers()
    mapping = signature_import.mapping or {}
    return {
        "letter": letter,
        "imp": signature_import,
        "preview": uploaded.preview,
        "mapping_errors": uploaded.mapping_errors,
        "headers": list(enumerate(headers)),
        "read_as": _read_as_text(uploaded.read_as()),
        "fields": [(field, FIELD_LABELS[field], mapping.get(field)) for field in FIELDS],
        "rows": shown[:ROWS_SHOWN],
        "rows_hidden": max(len(shown) - ROWS_SHOWN, 0),
        "statuses": list(RowStatus.LABELS.items()),
        "summary": uploaded.preview.summary_shown() if uploaded.preview else [],
        "wanted": wanted,
        "progress": import_progress(signature_import),
        "outcomes": import_outcomes(signature_import),
        "live": signature_import.status in (SignatureImport.Status.QUEUED, SignatureImport.Status.RUNNING),
        "start_form": extra.pop("start_form", StartForm()),
        "api_url": f"/api/v1/manage/letters/{letter.slug}/imports/{signature_import.public_id}/",
        **extra,
    }


@member_page(EDIT_LETTER)
@require_http_methods(["GET"])
def import_detail(request: HttpRequest, letter: Letter, import_id: str) -> HttpResponse:
    signature_import = import_of_letter(letter=letter, public_id=import_id)
    try:
        uploaded = (
            import_preview(signature_import=signature_import)
            if signature_import.status == SignatureImport.Status.PREVIEW
            else Uploaded(signature_import=signature_import, preview=None, mapping_errors={})
        )
        context = _detail_context(request, letter, uploaded)
    except ImportNotAllowed as exc:  # a stored file the reading rules of today refuse
        messages.error(request, exc.message)
        return redirect("manage-imports", letter.slug)
    return render(request, "web/manage/import.html", context)


@member_page(EDIT_LETTER)
@require_POST
def import_mapping(request: HttpRequest, letter: Letter, import_id: str) -> HttpResponse:
    signature_import = import_of_letter(letter=letter, public_id=import_id)
    mapping: dict[str, Any] = {}
    for field in FIELDS:
        value = request.POST.get(f"map_{field}", "")
        if value.isdigit():
            mapping[field] = int(value)
    try:
        import_mapping_set(signature_import=signature_import, mapping=mapping, actor=request.user)
    except ValidationError as exc:
        uploaded = Uploaded(signature_import=signature_import, preview=None, mapping_errors=exc.message_dict)
        signature_import.mapping = mapping
        return render(request, "web/manage/import.html", _detail_context(request, letter, uploaded), status=400)
    except ImportNotAllowed as exc:
        messages.error(request, exc.message)
    return redirect(_detail_url(signature_import))


@member_page(EDIT_LETTER)
@require_POST
def import_start_page(request: HttpRequest, letter: Letter, import_id: str) -> HttpResponse:
    signature_import = import_of_letter(letter=letter, public_id=import_id)
    form = StartForm(request.POST)
    if not form.is_valid():
        uploaded = import_preview(signature_import=signature_import)
        context = _detail_context(request, letter, uploaded, start_form=form)
        return render(request, "web/manage/import.html", context, status=400)
    try:
        import_start(signature_import=signature_import, mode=form.cleaned_data["mode"], actor=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(_errors(exc)))
    except ImportNotAllowed as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "The import has started.")
    return redirect(_detail_url(signature_import))


def _action_page(action: Any, done: str) -> Any:
    @member_page(EDIT_LETTER)
    @require_POST
    def page(request: HttpRequest, letter: Letter, import_id: str) -> HttpResponse:
        signature_import = import_of_letter(letter=letter, public_id=import_id)
        try:
            action(signature_import=signature_import, actor=request.user)
        except ImportNotAllowed as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, done)
        return redirect(_detail_url(signature_import))

    return page


@member_page(EDIT_LETTER)
@require_http_methods(["GET"])
def import_rejected(request: HttpRequest, letter: Letter, import_id: str) -> HttpResponse:
    signature_import = import_of_letter(letter=letter, public_id=import_id)
    uploaded = import_preview(signature_import=signature_import)
    if uploaded.preview is None:
        messages.error(request, "Rejected rows are listed while the import is in preview, with a complete mapping.")
        return redirect(_detail_url(signature_import))
    table = uploaded.file_table()
    assert table is not None  # a preview is built from it
    body = rejected_rows_csv(headers=table.headers, rows=table.rows, numbers=table.numbers, preview=uploaded.preview)
    response = HttpResponse(body, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="rejected-{signature_import.public_id}.csv"'
    return response


class InviteForm(forms.Form):
    name = forms.CharField(strip=False, **guarded(MAX_LENGTH))
    email = forms.CharField(strip=False, **guarded(254))
    title = forms.CharField(required=False, strip=False, **guarded(MAX_LENGTH))
    organization = forms.CharField(required=False, strip=False, **guarded(MAX_LENGTH))


@member_page(EDIT_LETTER)
@require_http_methods(["GET", "POST"])
def signer_invitations(request: HttpRequest, letter: Letter) -> HttpResponse:
    form = InviteForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                signer_invitation_create(letter=letter, actor=request.user, **form.cleaned_data)
            except ValidationError as exc:
                for field, errors in exc.message_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                messages.success(request, f"Invitation sent to {form.cleaned_data['email']}.")
                return redirect(reverse("manage-signer-invitations", kwargs={"slug": letter.slug}))
        status = 400
    context = {
        "letter": letter,
        "form": form,
        "counts": invitation_counts(letter=letter),
        "invitations": invitations_of_letter(letter=letter)[:500],
        "max_reminders": settings.SIGNER_INVITATION_MAX_REMINDERS,
    }
    return render(request, "web/manage/signer_invitations.html", context, status=status)


def _invitation_action(action: Any, done: str) -> Any:
    @member_page(EDIT_LETTER)
    @require_POST
    def page(request: HttpRequest, letter: Letter, invitation_id: str) -> HttpResponse:
        invitation = invitation_of_letter(letter=letter, public_id=invitation_id)
        try:
            action(invitation=invitation, actor=request.user)
        except InvitationNotAllowed as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, done)
        return redirect(reverse("manage-signer-invitations", kwargs={"slug": letter.slug}))

    return page


IMPORT = "manage/<slug:slug>/imports/<str:import_id>/"
INVITATION = "manage/<slug:slug>/signer-invitations/<str:invitation_id>/"
urlpatterns = [
    path("manage/<slug:slug>/imports/", imports, name="manage-imports"),
    path(IMPORT, import_detail, name="manage-import"),
    path(f"{IMPORT}mapping/", import_mapping, name="manage-import-mapping"),
    path(f"{IMPORT}start/", import_start_page, name="manage-import-start"),
    path(f"{IMPORT}discard/", _action_page(import_discard, "The import was discarded."), name="manage-import-discard"),
    path(
        f"{IMPORT}undo/",
        _action_page(import_undo, "The import was undone: its signatures left the letter."),
        name="manage-import-undo",
    ),
    path(
        f"{IMPORT}stop/",
        _action_page(import_stop, "The import was stopped: what it had written stays, and can be undone."),
        name="manage-import-stop",
    ),
    path(f"{IMPORT}rejected.csv", import_rejected, name="manage-import-rejected"),
    path("manage/<slug:slug>/signer-invitations/", signer_invitations, name="manage-signer-invitations"),
    path(
        f"{INVITATION}revoke/",
        _invitation_action(invitation_revoke, "The invitation was revoked; its link no longer works."),
        name="manage-signer-invitation-revoke",
    ),
    path(
        f"{INVITATION}remind/",
        _invitation_action(invitation_remind, "The invitation was sent again, with a new link."),
        name="manage-signer-invitation-remind",
    ),
]
