"""Reads for the identity review screens and the staff API, with their joins."""

from django.db.models import QuerySet

from registry.models import DuplicateCandidate


def duplicate_candidates(*, status: str = DuplicateCandidate.Status.OPEN) -> QuerySet[DuplicateCandidate]:
    """Candidate pairs with a given status, best score first, with both people (and whom they merged into)."""
    return (
        DuplicateCandidate.objects.filter(status=status)
        .select_related("person_a__merged_into", "person_b__merged_into")
        .order_by("-score", "id")
    )
