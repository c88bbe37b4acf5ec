"""Linking a candidate organization to a reviewed one: signatures, counts, levels and history follow."""

import pytest

from letters.counts import letter_count_rebuild, letter_count_refresh
from letters.models import LetterCount, SignatureEvent, VerificationLevel
from letters.selectors import letter_changes
from letters.services.signing import signature_confirm, signature_create
from registry.models import Organization
from registry.services import organization_candidate_link, organization_domain_add
from tests.builders import past_the_margin
from tests.factories import LetterFactory, OrganizationFactory

pytestmark = pytest.mark.django_db


def test_linking_nvidea_to_nvidia_moves_counts_re_evaluates_the_domain_and_records_events(staff_user):
    letter = LetterFactory()
    nvidia = OrganizationFactory(name="Nvidia", slug="nvidia", name_key="nvidia")
    organization_domain_add(organization=nvidia, domain="nvidia.com")
    created = signature_create(
        letter=letter, name="Ada Lovelace", email="ada@nvidia.com", organization_name="Nvidea", send_email=False,
        check_rate_limits=False,
    )  # fmt: skip
    signature = signature_confirm(signature=created.signature)
    candidate = signature.organization
    assert candidate.status == Organization.Status.CANDIDATE
    assert signature.verification_level == VerificationLevel.EMAIL  # the typo'd organization proves nothing
    letter_count_refresh(letter_id=letter.pk, now=past_the_margin())
    assert LetterCount.objects.get(letter=letter).by_organization == {"text:Nvidea": 1}

    organization_candidate_link(candidate=candidate, organization=nvidia, actor=staff_user)

    signature.refresh_from_db()
    assert (signature.organization, signature.verification_level) == (nvidia, VerificationLevel.DOMAIN)
    kinds = list(SignatureEvent.objects.filter(signature=signature).order_by("id").values_list("kind", flat=True))
    assert kinds == ["created", "confirmed", "organization", "verified"]
    moved = SignatureEvent.objects.get(signature=signature, kind="organization")
    assert (moved.organization_before, moved.organization_after, moved.actor) == (
        "text:Nvidea",
        "org:nvidia",
        staff_user,
    )
    assert [e.kind for e in letter_changes(letter=letter)] == ["confirmed", "organization", "verified"]
    folded = letter_count_refresh(letter_id=letter.pk, now=past_the_margin())
    assert folded == 2
    count = LetterCount.objects.get(letter=letter)
    assert (count.public, count.by_organization, count.by_level) == (1, {"org:nvidia": 1}, {"domain": 1})
    rebuilt = letter_count_rebuild(letter_id=letter.pk, now=past_the_margin())
    assert (rebuilt.by_organization, rebuilt.by_level) == ({"org:nvidia": 1}, {"domain": 1})


def test_rejecting_a_signature_held_since_confirmation_does_not_count_as_rejected(staff_user):
    from letters.services.verification import signature_reject

    letter = LetterFactory()
    created = signature_create(
        letter=letter, name="Ada Lov\u0435lace", email="ada@example.org", send_email=False, check_rate_limits=False
    )  # a Cyrillic "е": mixed scripts are held at confirmation, so this signature was never public
    held = signature_confirm(signature=created.signature)
    assert held.hold_reason == "mixed_script"
    signature_reject(signature=held, reason="Impersonation", actor=staff_user)
    count = letter_count_rebuild(letter_id=letter.pk, now=past_the_margin())
    assert (count.public, count.rejected, count.withdrawn) == (0, 0, 0)
    assert list(letter_changes(letter=letter)) == []
