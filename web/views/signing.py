"""Sign, check-your-inbox, confirm and withdraw pages. Email links show a button; only the POST acts."""

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from letters.markdown import markdown_to_safe_html
from letters.models import Letter, Signature
from letters.selectors import letter_public_lookup
from letters.services.ratelimit import client_ip
from letters.services.reconsent import reconsent_token_signature, signature_reconsent_by_token
from letters.services.signing import (
    LetterNotAccepting,
    not_accepting_message,
    signature_confirm_by_token,
    signature_create,
    signature_withdraw_by_token,
)
from letters.services.tokens import TokenInvalid
from web.forms import SignForm


def _public_letter(slug: str) -> Letter:
    try:
        return letter_public_lookup(slug=slug)
    except Letter.DoesNotExist:
        raise Http404 from None


@never_cache
@require_http_methods(["GET", "POST"])
def sign(request: HttpRequest, slug: str) -> HttpResponse:
    letter = _public_letter(slug)
    if not letter.is_accepting_signatures:
        context = {"letter": letter, "message": not_accepting_message(letter.status)}
        return render(request, "web/sign_closed.html", context, status=409 if request.method == "POST" else 200)
    form = SignForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if not form.is_bot:
            try:
                signature_create(
                    letter=letter,
                    name=form.cleaned_data["name"],
                    email=form.cleaned_data["email"],
                    title=form.cleaned_data["title"],
                    organization_name=form.cleaned_data["organization"],
                    name_shown=form.cleaned_data["public"],
                    comment=form.cleaned_data["comment"],
                    source=Signature.Source.WEB,
                    ip_address=client_ip(request.META),
                )
            except LetterNotAccepting as refused:
                context = {"letter": letter, "message": refused.message}
                return render(request, "web/sign_closed.html", context, status=409)
        return redirect("web-check-inbox", slug=letter.slug)
    status = 400 if request.method == "POST" else 200
    return render(request, "web/sign.html", {"letter": letter, "form": form}, status=status)


def check_inbox(request: HttpRequest, slug: str) -> HttpResponse:
    return render(request, "web/check_inbox.html", {"letter": _public_letter(slug)})


@never_cache
@require_http_methods(["GET", "POST"])
def confirm(request: HttpRequest, token: str) -> HttpResponse:
    if request.method == "GET":
        return render(request, "web/confirm.html", {"token": token})
    try:
        signature = signature_confirm_by_token(token=token)
    except TokenInvalid:
        return render(request, "web/link_invalid.html", status=400)
    return render(request, "web/confirm_done.html", {"signature": signature, "letter": signature.letter})


@never_cache
@require_http_methods(["GET", "POST"])
def withdraw(request: HttpRequest, token: str) -> HttpResponse:
    if request.method == "GET":
        return render(request, "web/withdraw.html", {"token": token})
    try:
        signature = signature_withdraw_by_token(token=token)
    except TokenInvalid:
        return render(request, "web/link_invalid.html", status=400)
    return render(request, "web/withdraw_done.html", {"letter": signature.letter})


@never_cache
@require_http_methods(["GET", "POST"])
def reconsent(request: HttpRequest, token: str) -> HttpResponse:
    """GET shows the current text and what changed since the signed version (without using the link); POST signs
    the current text."""
    if request.method == "GET":
        signature = reconsent_token_signature(token=token)
        if signature is None:
            return render(request, "web/link_invalid.html", status=400)
        letter = signature.letter
        current = letter.current_version
        assert current is not None  # a letter with signatures has a text
        context = {
            "token": token,
            "letter": letter,
            "signed": signature.version,
            "current": current,
            "body": markdown_to_safe_html(current.body),
            "already_current": signature.version_id == current.pk,
        }
        return render(request, "web/reconsent.html", context)
    try:
        signature = signature_reconsent_by_token(token=token)
    except TokenInvalid:
        return render(request, "web/link_invalid.html", status=400)
    return render(request, "web/reconsent_done.html", {"letter": signature.letter, "version": signature.version})


urlpatterns = [
    path("letters/<slug:slug>/sign/", sign, name="web-sign"),
    path("letters/<slug:slug>/sign/check-your-inbox/", check_inbox, name="web-check-inbox"),
    path("confirm/<str:token>/", confirm, name="web-confirm"),
    path("withdraw/<str:token>/", withdraw, name="web-withdraw"),
    path("reconsent/<str:token>/", reconsent, name="web-reconsent"),
]
