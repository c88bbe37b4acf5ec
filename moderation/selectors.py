"""Reading bulk invalidations: a letter's, and one of them (404 when it is another letter's)."""

from django.db.models import QuerySet
from django.http import Http404

from letters.models import Letter
from moderation.models import Invalidation


def invalidations_of_letter(*, letter: Letter) -> QuerySet[Invalidation]:
    return Invalidation.objects.filter(letter=letter).select_related("created_by")


def invalidation_of_letter(*, letter: Letter, public_id: str) -> Invalidation:
    found = Invalidation.objects.filter(letter=letter, public_id=public_id).select_related("letter").first()
    if found is None:
        raise Http404
    return found
