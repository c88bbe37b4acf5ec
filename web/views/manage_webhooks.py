"""A letter's webhooks for its owners (/manage/<slug>/webhooks/…, /manage/<slug>/milestones/): add an endpoint (its
secret is shown once, on the page that answers the form), change or delete it, rotate its secret, ping it, read its
delivery log and redeliver. Plain POST forms, no JavaScript. Owners and staff with two-factor login only
(RUN_LETTER); another letter's endpoint or delivery is 404."""

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.views.decorators.http import require_http_methods, require_POST

from letters.models import Letter
from organizing.permissions import RUN_LETTER
from web.manage_forms import errors_onto
from web.views.manage import member_page
from webhooks.models import EVENT_TYPES, Endpoint
from webhooks.selectors import deliveries_of_endpoint, delivery_of_endpoint, endpoint_of_letter, endpoints_of_letter
from webhooks.services import (
    RedeliveryRefused,
    delivery_redeliver,
    endpoint_create,
    endpoint_delete,
    endpoint_ping,
    endpoint_secret_rotate,
    endpoint_update,
    letter_milestones_set,
)

EVENT_CHOICES = [(e, e) for e in EVENT_TYPES]


class EndpointForm(forms.Form):
    url = forms.CharField(label="Receiver URL", max_length=2000, help_text="https://… (checked again at every send).")
    description = forms.CharField(label="Description", max_length=200, required=False)
    event_types = forms.MultipleChoiceField(
        label="Events", choices=EVENT_CHOICES, widget=forms.CheckboxSelectMultiple, required=False
    )


class EndpointEditForm(EndpointForm):
    active = forms.BooleanField(label="Active (sending)", required=False)


class MilestonesForm(forms.Form):
    thresholds = forms.CharField(
        label="Own milestones", required=False, help_text="Public counts to announce, separated by commas (e.g. 150)."
    )


def webhooks_url(letter: Letter) -> str:
    return reverse("manage-webhooks", kwargs={"slug": letter.slug})


def endpoint_url(letter: Letter, endpoint: Endpoint) -> str:
    return reverse("manage-webhook", kwargs={"slug": letter.slug, "endpoint_id": endpoint.public_id})


def _list_page(
    request: HttpRequest,
    letter: Letter,
    *,
    form: EndpointForm | None = None,
    milestones: MilestonesForm | None = None,
    secret: str = "",
    status: int = 200,
) -> HttpResponse:
    context = {
        "letter": letter,
        "endpoints": endpoints_of_letter(letter=letter),
        "form": form or EndpointForm(initial={"event_types": ["signature.confirmed", "milestone.reached"]}),
        "milestones": milestones
        or MilestonesForm(initial={"thresholds": ", ".join(str(t) for t in letter.milestone_thresholds)}),
        "default_thresholds": settings.MILESTONE_THRESHOLDS,
        "secret": secret,
    }
    return render(request, "web/manage/webhooks.html", context, status=status)


@member_page(RUN_LETTER)
@require_http_methods(["GET", "POST"])
def webhooks(request: HttpRequest, letter: Letter) -> HttpResponse:
    if request.method == "GET":
        return _list_page(request, letter)
    form = EndpointForm(request.POST)
    if form.is_valid():
        try:
            created = endpoint_create(letter=letter, actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            errors_onto(form, exc)
        else:
            return _list_page(request, letter, secret=created.secret, status=201)
    return _list_page(request, letter, form=form, status=400)


@member_page(RUN_LETTER)
@require_POST
def milestones(request: HttpRequest, letter: Letter) -> HttpResponse:
    form = MilestonesForm(request.POST)
    if form.is_valid():
        text = form.cleaned_data["thresholds"]
        try:
            values = [int(part) for part in text.replace(";", ",").split(",") if part.strip()]
        except ValueError:
            form.add_error("thresholds", "Whole numbers separated by commas.")
        else:
            try:
                letter_milestones_set(letter=letter, thresholds=values, actor=request.user)
            except ValidationError as exc:
                errors_onto(form, exc)
            else:
                messages.success(request, "Milestones saved.")
                return redirect(webhooks_url(letter))
    return _list_page(request, letter, milestones=form, status=400)


def _detail_page(
    request: HttpRequest, letter: Letter, endpoint: Endpoint, *, form: EndpointEditForm | None = None,
    secret: str = "", status: int = 200,
) -> HttpResponse:  # fmt: skip
    initial = {f: getattr(endpoint, f) for f in ("url", "description", "event_types", "active")}
    context = {
        "letter": letter,
        "endpoint": endpoint,
        "form": form or EndpointEditForm(initial=initial),
        "deliveries": deliveries_of_endpoint(endpoint=endpoint),
        "secret": secret,
    }
    return render(request, "web/manage/webhook.html", context, status=status)


@member_page(RUN_LETTER)
@require_http_methods(["GET", "POST"])
def webhook(request: HttpRequest, letter: Letter, endpoint_id: str) -> HttpResponse:
    endpoint = endpoint_of_letter(letter=letter, public_id=endpoint_id)
    if request.method == "GET":
        return _detail_page(request, letter, endpoint)
    form = EndpointEditForm(request.POST)
    if form.is_valid():
        try:
            endpoint_update(endpoint=endpoint, actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            errors_onto(form, exc)
        else:
            messages.success(request, "Endpoint saved.")
            return redirect(endpoint_url(letter, endpoint))
    return _detail_page(request, letter, endpoint, form=form, status=400)


@member_page(RUN_LETTER)
@require_POST
def webhook_rotate(request: HttpRequest, letter: Letter, endpoint_id: str) -> HttpResponse:
    endpoint = endpoint_of_letter(letter=letter, public_id=endpoint_id)
    secret = endpoint_secret_rotate(endpoint=endpoint, actor=request.user)
    return _detail_page(request, letter, endpoint, secret=secret)


@member_page(RUN_LETTER)
@require_POST
def webhook_delete(request: HttpRequest, letter: Letter, endpoint_id: str) -> HttpResponse:
    endpoint = endpoint_of_letter(letter=letter, public_id=endpoint_id)
    endpoint_delete(endpoint=endpoint, actor=request.user)
    messages.success(request, f"The endpoint {endpoint.url} was deleted.")
    return redirect(webhooks_url(letter))


@member_page(RUN_LETTER)
@require_POST
def webhook_ping(request: HttpRequest, letter: Letter, endpoint_id: str) -> HttpResponse:
    endpoint = endpoint_of_letter(letter=letter, public_id=endpoint_id)
    endpoint_ping(endpoint=endpoint, actor=request.user)
    messages.success(request, "A webhook.ping is on its way.")
    return redirect(endpoint_url(letter, endpoint))


@member_page(RUN_LETTER)
@require_POST
def webhook_redeliver(request: HttpRequest, letter: Letter, endpoint_id: str, webhook_id: str) -> HttpResponse:
    endpoint = endpoint_of_letter(letter=letter, public_id=endpoint_id)
    delivery = delivery_of_endpoint(endpoint=endpoint, webhook_id=webhook_id)
    try:
        delivery_redeliver(delivery=delivery, actor=request.user)
    except RedeliveryRefused as exc:
        messages.error(request, exc.message)
        return _detail_page(request, letter, endpoint, status=409)
    messages.success(request, f"{delivery.webhook_id} will be sent again now.")
    return redirect(endpoint_url(letter, endpoint))


HOOKS = "manage/<slug:slug>/webhooks/"
ENDPOINT = HOOKS + "<slug:endpoint_id>/"
urlpatterns = [
    path(HOOKS, webhooks, name="manage-webhooks"),
    path("manage/<slug:slug>/milestones/", milestones, name="manage-milestones"),
    path(ENDPOINT, webhook, name="manage-webhook"),
    path(ENDPOINT + "rotate/", webhook_rotate, name="manage-webhook-rotate"),
    path(ENDPOINT + "delete/", webhook_delete, name="manage-webhook-delete"),
    path(ENDPOINT + "ping/", webhook_ping, name="manage-webhook-ping"),
    path(ENDPOINT + "deliveries/<slug:webhook_id>/redeliver/", webhook_redeliver, name="manage-webhook-redeliver"),
]
