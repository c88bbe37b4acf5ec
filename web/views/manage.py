"""Organizers' pages (/manage/): their letters, a new letter, a draft with its preview, lifecycle confirmations and
new versions. Every letter is fetched through organizing.selectors.letter_for_member (`member_page`): a letter the
user is not a member of is a 404; a role that does not allow the page, or a missing second factor, a 403 page that
says which. Pages work without JavaScript: each action is a POST form with its CSRF token."""

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from letters.models import Letter
from letters.services.letters import letter_version_publish
from letters.services.lifecycle import TransitionRefused, letter_close, letter_open, letter_pause, letter_schedule
from organizing.authoring import letter_create_with_owner, letter_draft_edit, markdown_preview
from organizing.permissions import (
    EDIT_LETTER,
    RUN_LETTER,
    SecondFactorRequired,
    second_factor_recommended,
)
from organizing.selectors import letter_for_member, letters_for_staff, letters_of_member
from web.manage_forms import DraftForm, LetterForm, ScheduleForm, VersionForm, errors_onto

LetterView = Callable[..., HttpResponse]


def refused(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
    second_factor = isinstance(exc, SecondFactorRequired)
    message = exc.message if isinstance(exc, SecondFactorRequired) else (str(exc) or "Your role does not allow this.")
    return render(request, "web/manage/refused.html", {"message": message, "second_factor": second_factor}, status=403)


def member_page(permission: str) -> Callable[[LetterView], Callable[..., HttpResponse]]:
    """A page of one letter for its members: the view receives the letter fetched for `permission`."""

    def decorate(view: LetterView) -> Callable[..., HttpResponse]:
        @wraps(view)
        def page(request: HttpRequest, slug: str, **kwargs: Any) -> HttpResponse:
            try:
                letter = letter_for_member(user=request.user, slug=slug, permission=permission)
                return view(request, letter, **kwargs)
            except PermissionDenied as exc:
                return refused(request, exc)

        return never_cache(login_required(page))

    return decorate


def dashboard_url(letter: Letter) -> str:
    return reverse("manage-dashboard", kwargs={"slug": letter.slug})


@never_cache
@login_required
def index(request: HttpRequest) -> HttpResponse:
    context = {
        "letters": letters_of_member(user=request.user),
        "second_factor_recommended": second_factor_recommended(request.user),
        # Staff act on every letter without being a member of it: those letters are listed apart.
        "staff_letters": letters_for_staff(user=request.user),
    }
    return render(request, "web/manage/index.html", context)


def _preview(form: LetterForm) -> dict[str, Any]:
    body = form.data.get("body", "")
    html, problems = markdown_preview(text=body if isinstance(body, str) else "")
    return {"preview": html, "problems": problems}


def _status(request: HttpRequest, form: LetterForm) -> int:
    """400 for a refused save; a preview is an answer (its problems listed), not a refusal."""
    return 400 if request.POST.get("action") != "preview" and form.errors else 200


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def letter_new(request: HttpRequest) -> HttpResponse:
    form = LetterForm(request.POST or None)
    context: dict[str, Any] = {"form": form}
    if request.method == "POST" and request.POST.get("action") == "preview":
        context.update(_preview(form))
    elif request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            letter = letter_create_with_owner(
                user=request.user,
                slug=data["slug"],
                title=data["title"],
                summary=data["summary"],
                body=data["body"],
                recipients=data["recipients"],
                sponsor_slugs=data["sponsors"],
            )
        except ValidationError as exc:
            errors_onto(form, exc)
        else:
            messages.success(request, "Draft created. Only its members can see it.")
            return redirect(dashboard_url(letter))
    return render(request, "web/manage/letter_form.html", context, status=_status(request, form))


@member_page(EDIT_LETTER)
@require_http_methods(["GET", "POST"])
def letter_edit(request: HttpRequest, letter: Letter) -> HttpResponse:
    form = DraftForm(request.POST or None, initial=DraftForm.initial_of(letter))
    context: dict[str, Any] = {"form": form, "letter": letter}
    if request.method == "POST" and request.POST.get("action") == "preview":
        context.update(_preview(form))
    elif request.method == "POST" and form.is_valid():
        try:
            letter_draft_edit(letter=letter, changes=form.cleaned_data, actor=request.user)
        except ValidationError as exc:
            errors_onto(form, exc)
        except TransitionRefused as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, "Draft saved.")
            return redirect(dashboard_url(letter))
    elif request.method == "GET":
        context.update(_preview(DraftForm(DraftForm.initial_of(letter))))
    return render(request, "web/manage/letter_form.html", context, status=_status(request, form))


@member_page(RUN_LETTER)
@require_http_methods(["GET", "POST"])
def letter_schedule_page(request: HttpRequest, letter: Letter) -> HttpResponse:
    form = ScheduleForm(request.POST or None, initial={"publish_at": letter.publish_at})
    if request.method == "POST" and form.is_valid():
        try:
            letter_schedule(letter=letter, publish_at=form.cleaned_data["publish_at"], actor=request.user)
        except ValidationError as exc:
            errors_onto(form, exc)
        except TransitionRefused as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, "Launch scheduled. The letter stays hidden from the public until then.")
            return redirect(dashboard_url(letter))
    context = {"letter": letter, "form": form, "action": "schedule"}
    return render(request, "web/manage/confirm.html", context, status=400 if form.errors else 200)


TRANSITIONS: dict[str, tuple[Callable[..., Letter], str, str, str]] = {
    # action: (service, question, button, done)
    "open": (
        letter_open,
        "Open this letter to the public now?",
        "Yes, open it now",
        "The letter is open: its page is public and anyone can sign.",
    ),
    "pause": (
        letter_pause,
        "Pause signing? The page stays public; signing is refused until you resume.",
        "Yes, pause signing",
        "Signing is paused.",
    ),
    "close": (
        letter_close,
        "Close this letter for good? The final count is frozen and citable.",
        "Yes, close it",
        "The letter is closed.",
    ),
}


def _transition_page(action: str) -> Callable[..., HttpResponse]:
    service, question, button, done = TRANSITIONS[action]

    @member_page(RUN_LETTER)
    @require_http_methods(["GET", "POST"])
    def page(request: HttpRequest, letter: Letter) -> HttpResponse:
        error = ""
        if request.method == "POST":
            try:
                service(letter=letter, actor=request.user)
            except TransitionRefused as exc:
                error = exc.message
            else:
                messages.success(request, done)
                return redirect(dashboard_url(letter))
        context = {"letter": letter, "action": action, "question": question, "button": button, "error": error}
        return render(request, "web/manage/confirm.html", context, status=409 if error else 200)

    page.__name__ = f"letter_{action}_page"
    return page


@member_page(EDIT_LETTER)
@require_http_methods(["GET", "POST"])
def version_new(request: HttpRequest, letter: Letter) -> HttpResponse:
    current = letter.current_version.body if letter.current_version else ""
    form = VersionForm(request.POST or None, initial={"body": current})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            version = letter_version_publish(
                letter=letter, body=data["body"], kind=data["kind"], note=data["note"], actor=request.user
            )
        except ValidationError as exc:
            errors_onto(form, exc)
        except TransitionRefused as exc:
            form.add_error(None, exc.message)
        else:
            done = f"Version {version.number} published."
            if version.kind == "material":
                done += " Signers of earlier versions are being emailed to re-consent."
            messages.success(request, done)
            return redirect(dashboard_url(letter))
    return render(
        request, "web/manage/version_form.html", {"letter": letter, "form": form}, status=400 if form.errors else 200
    )


urlpatterns = [
    path("manage/", index, name="manage-index"),
    path("manage/new/", letter_new, name="manage-new"),
    path("manage/<slug:slug>/edit/", letter_edit, name="manage-edit"),
    path("manage/<slug:slug>/schedule/", letter_schedule_page, name="manage-schedule"),
    path("manage/<slug:slug>/open/", _transition_page("open"), name="manage-open"),
    path("manage/<slug:slug>/pause/", _transition_page("pause"), name="manage-pause"),
    path("manage/<slug:slug>/close/", _transition_page("close"), name="manage-close"),
    path("manage/<slug:slug>/versions/new/", version_new, name="manage-version-new"),
]
