"""Reading bulk invalidations and trending alerts: a letter's, and one of them (404 when it is another letter's)."""

from django.db.models import QuerySet
from django.http import Http404

from letters.models import Letter
from moderation.models import Invalidation, TrendingAlert


def invalidations_of_letter(*, letter: Letter) -> QuerySet[Invalidation]:
    return Invalidation.objects.filter(letter=letter).select_related("created_by")


def invalidation_of_letter(*, letter: Letter, public_id: str) -> Invalidation:
    found = Invalidation.objects.filter(letter=letter, public_id=public_id).select_related("letter").first()
    if found is None:
        raise Http404
    return found


ALERT_STATUSES = ("active", "all", *TrendingAlert.Status.values)


def alerts_of_letter(*, letter: Letter, status: str = "active") -> QuerySet[TrendingAlert]:
    """A letter's trending alerts, latest wave first: `active` (open and acknowledged), `all`, or one status."""
    alerts = TrendingAlert.objects.filter(letter=letter).select_related("letter", "acknowledged_by")
    if status == "active":
        return alerts.filter(status__in=TrendingAlert.ACTIVE_STATUSES)
    return alerts if status == "all" else alerts.filter(status=status)


def alert_of_letter(*, letter: Letter, public_id: str) -> TrendingAlert:
    found = TrendingAlert.objects.filter(letter=letter, public_id=public_id).select_related("letter").first()
    if found is None:
        raise Http404
    return found
