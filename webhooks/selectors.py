"""Reads of a letter's webhook endpoints and delivery log (the manage API and pages)."""

from django.db.models import Prefetch, QuerySet
from django.http import Http404

from letters.models import Letter
from webhooks.models import Attempt, Delivery, Endpoint

DELIVERY_LOG_LENGTH = 50


def endpoints_of_letter(*, letter: Letter) -> QuerySet[Endpoint]:
    return Endpoint.objects.filter(letter=letter).order_by("created_at", "pk")


def endpoint_of_letter(*, letter: Letter, public_id: str) -> Endpoint:
    """The letter's endpoint; 404 for another letter's (the same answer as for none)."""
    endpoint = Endpoint.objects.filter(letter=letter, public_id=public_id).first()
    if endpoint is None:
        raise Http404("No such endpoint.")
    return endpoint


def deliveries_of_endpoint(*, endpoint: Endpoint, limit: int = DELIVERY_LOG_LENGTH) -> list[Delivery]:
    """The newest deliveries with their attempts (two queries)."""
    return list(
        Delivery.objects.filter(endpoint=endpoint)
        .order_by("-created_at", "-pk")
        .prefetch_related(Prefetch("attempt_log", queryset=Attempt.objects.order_by("at", "pk")))[:limit]
    )


def delivery_of_endpoint(*, endpoint: Endpoint, webhook_id: str) -> Delivery:
    delivery = Delivery.objects.filter(endpoint=endpoint, webhook_id=webhook_id).first()
    if delivery is None:
        raise Http404("No such delivery.")
    return delivery
