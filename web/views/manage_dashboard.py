"""A letter's dashboard (/manage/<slug>/): live counts by level and version, open trending alerts (moderation roles),
the held queue with its release, verify and reject forms, recent signatures, and the private exports made. Emails are
shown only to roles allowed to export them (organizing.export_private); moderation needs organizing.moderate_letter."""

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.views.decorators.http import require_POST

from importing.selectors import invitation_counts
from letters.models import Letter, Signature
from letters.services.private_exports import private_export_create
from letters.services.verification import (
    VerificationError,
    signature_hold,
    signature_reject,
    signature_release,
    signature_verify_manual,
)
from moderation.selectors import alerts_of_letter
from organizing.dashboard import letter_dashboard, letter_signature_get
from organizing.permissions import (
    EDIT_LETTER,
    EXPORT_PRIVATE,
    MANAGE_MEMBERS,
    MODERATE_LETTER,
    RUN_LETTER,
    VIEW_LETTER,
    can,
    member_role,
    second_factor_recommended,
)
from web.manage_forms import RejectForm, VerifyForm
from web.views.manage import dashboard_url, member_page

ALERTS_SHOWN = 20


@member_page(VIEW_LETTER)
def dashboard(request: HttpRequest, letter: Letter) -> HttpResponse:
    user = request.user
    made = letter_dashboard(letter=letter)
    # One pair of forms per held signature, each with its own ids, so every label names its own field.
    held = [
        (s, VerifyForm(auto_id=f"id_{s.public_id}_%s"), RejectForm(auto_id=f"id_{s.public_id}_reject_%s"))
        for s in made.held
    ]
    may = {
        "edit": can(user, EDIT_LETTER, letter),
        "run": can(user, RUN_LETTER, letter),
        "moderate": can(user, MODERATE_LETTER, letter),
        "export": can(user, EXPORT_PRIVATE, letter),
        "members": can(user, MANAGE_MEMBERS, letter),
    }
    context = {
        "letter": letter,
        "dashboard": made,
        "held": held,
        "role": member_role(user, letter),
        "may": may,
        "second_factor_recommended": second_factor_recommended(user),
    }
    if may["edit"]:
        context["invitations"] = invitation_counts(letter=letter)
    if may["moderate"]:
        context["alerts"] = list(alerts_of_letter(letter=letter)[:ALERTS_SHOWN])
    return render(request, "web/manage/dashboard.html", context)


def _signature(letter: Letter, public_id: str) -> Signature:
    try:
        return letter_signature_get(letter=letter, public_id=public_id)
    except Signature.DoesNotExist:
        raise Http404 from None


def _form_errors(request: HttpRequest, form: VerifyForm | RejectForm) -> None:
    for field, errors in form.errors.items():
        label = form.fields[field].label if field in form.fields else ""
        for error in errors:
            messages.error(request, f"{label}: {error}" if label else str(error))


@member_page(MODERATE_LETTER)
@require_POST
def hold(request: HttpRequest, letter: Letter, public_id: str) -> HttpResponse:
    signature = _signature(letter, public_id)
    if signature.status in Signature.LIVE_STATUSES:
        signature_hold(signature=signature, actor=request.user)
        messages.success(request, f"{signature.name} is held for review.")
    else:
        messages.error(request, "Only pending or confirmed signatures can be held.")
    return redirect(dashboard_url(letter))


@member_page(MODERATE_LETTER)
@require_POST
def release(request: HttpRequest, letter: Letter, public_id: str) -> HttpResponse:
    signature = _signature(letter, public_id)
    if signature.hold_reason:
        try:
            released = signature_release(signature=signature, actor=request.user)
        except VerificationError as exc:
            messages.error(request, str(exc))
        else:
            if released.hold_reason:  # a rate-limit hold released into the name or title check's hold
                messages.warning(request, f"{signature.name} is still held: {released.get_hold_reason_display()}.")
            else:
                messages.success(request, f"{signature.name} is released.")
    else:
        messages.error(request, "This signature is not held.")
    return redirect(dashboard_url(letter))


@member_page(MODERATE_LETTER)
@require_POST
def verify(request: HttpRequest, letter: Letter, public_id: str) -> HttpResponse:
    signature = _signature(letter, public_id)
    form = VerifyForm(request.POST)
    if not form.is_valid():
        _form_errors(request, form)
        return redirect(dashboard_url(letter))
    try:
        signature_verify_manual(
            signature=signature,
            method=form.cleaned_data["method"],
            evidence=form.cleaned_data["evidence"],
            evidence_url=form.cleaned_data["evidence_url"],
            verifier=request.user,
        )
    except VerificationError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"{signature.name} is verified.")
    return redirect(dashboard_url(letter))


@member_page(MODERATE_LETTER)
@require_POST
def reject(request: HttpRequest, letter: Letter, public_id: str) -> HttpResponse:
    signature = _signature(letter, public_id)
    form = RejectForm(request.POST)
    if not form.is_valid():
        _form_errors(request, form)
        return redirect(dashboard_url(letter))
    try:
        signature_reject(
            signature=signature,
            reason=form.cleaned_data["reason"],
            public_reason=form.cleaned_data["public_reason"],
            actor=request.user,
        )
    except VerificationError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"{signature.name} is rejected.")
    return redirect(dashboard_url(letter))


@member_page(EXPORT_PRIVATE)
@require_POST
def export(request: HttpRequest, letter: Letter) -> HttpResponse:
    """A POST (with its CSRF token), so a prefetch or a link cannot make an audited export of emails."""
    fmt = request.POST.get("format", "csv")
    if fmt not in ("csv", "json"):
        messages.error(request, "Choose CSV or JSON.")
        return redirect(dashboard_url(letter))
    made = private_export_create(letter=letter, fmt=fmt, actor=request.user)
    content_type = "text/csv; charset=utf-8" if fmt == "csv" else "application/json"
    response = HttpResponse(made.content, content_type=content_type)
    stamp = made.exported_at.strftime("%Y%m%dT%H%M%SZ")
    response["Content-Disposition"] = f'attachment; filename="{letter.slug}-private-{stamp}.{fmt}"'
    return response


SIGNATURE = "manage/<slug:slug>/signatures/<slug:public_id>"
urlpatterns = [
    path("manage/<slug:slug>/", dashboard, name="manage-dashboard"),
    path(f"{SIGNATURE}/hold/", hold, name="manage-hold"),
    path(f"{SIGNATURE}/release/", release, name="manage-release"),
    path(f"{SIGNATURE}/verify/", verify, name="manage-verify"),
    path(f"{SIGNATURE}/reject/", reject, name="manage-reject"),
    path("manage/<slug:slug>/export/", export, name="manage-export"),
]
