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


def verification_queue():
    """Confirmed signatures waiting for a person: held ones first, then those verified by email only."""
    from django.db.models import Case, IntegerField, Value, When

    from letters.models import Signature, VerificationLevel

    return (
        Signature.objects.filter(status=Signature.Status.CONFIRMED)
        .exclude(
            hold_reason="",
            verification_level__in=[VerificationLevel.DOMAIN, VerificationLevel.MANUAL, VerificationLevel.INVITED],
        )
        .annotate(held_first=Case(When(hold_reason="", then=Value(1)), default=Value(0), output_field=IntegerField()))
        .select_related("letter", "organization")
        .order_by("held_first", "confirmed_at", "id")
    )
