from datetime import datetime

import pytest
from django.core.management import call_command

from letters.demo import DEMO_DAY1_END, DEMO_DAY2_END, DEMO_DAY3_END, DEMO_PUBLIC_AT_DAY1_END, DEMO_SLUG
from letters.demo_identity import IMPERSONATION, PROTECTED, identity_demo_seed
from letters.models import Letter, Signature, SignatureEvent
from registry.emails import email_key
from registry.merge import duplicate_merge
from registry.models import AuditEvent, DuplicateCandidate, ProtectedName
from tests.builders import public_count

pytestmark = pytest.mark.django_db


def public_at(letter: Letter, moment: datetime) -> int:
    changes = SignatureEvent.objects.filter(letter=letter, at__lt=moment).values_list("visible_before", "visible_after")
    return sum(int(after) - int(before) for before, after in changes)


@pytest.fixture
def demo(capsys):
    call_command("load_demo")
    capsys.readouterr()
    return Letter.objects.get(slug=DEMO_SLUG)


def test_demo_has_protected_names_a_held_impersonation_and_a_duplicate_pair(demo):
    assert set(ProtectedName.objects.values_list("name", flat=True)) == {name for name, _ in PROTECTED}
    impersonation = Signature.objects.get(letter=demo, email_key=email_key(IMPERSONATION[1]))
    assert impersonation.name == "Мarcus Vellаcott"
    assert (impersonation.status, impersonation.hold_reason) == ("confirmed", "protected_name")
    assert DEMO_DAY2_END <= impersonation.confirmed_at < DEMO_DAY3_END
    candidate = DuplicateCandidate.objects.get(person_a__display_name="Katherine Lindqvist")
    assert candidate.person_b.display_name == "Katie Lindqvist"
    assert candidate.status == "open"
    assert candidate.reasons[0] == "given name katherine ≈ katie (nickname) (+5.6)"
    assert any(reason.startswith("same organization Adobe (") for reason in candidate.reasons)


def test_identity_demo_keeps_the_reported_counts(demo):
    assert public_at(demo, DEMO_DAY1_END) == DEMO_PUBLIC_AT_DAY1_END
    assert public_at(demo, DEMO_DAY3_END) > 100
    lindqvists = Signature.objects.filter(letter=demo, name__endswith="Lindqvist")
    assert all(DEMO_DAY1_END <= s.confirmed_at < DEMO_DAY3_END for s in lindqvists)


def test_identity_demo_is_idempotent(demo):
    counts = (Signature.objects.count(), SignatureEvent.objects.count(), DuplicateCandidate.objects.count())
    identity_demo_seed(letter=demo)
    call_command("load_demo")
    assert (Signature.objects.count(), SignatureEvent.objects.count(), DuplicateCandidate.objects.count()) == counts
    assert ProtectedName.objects.count() == len(PROTECTED)


def test_merging_the_demo_pair_keeps_the_public_count_right(demo, staff_user):
    before = public_count(demo)
    candidate = DuplicateCandidate.objects.get(person_a__display_name="Katherine Lindqvist")
    duplicate_merge(candidate=candidate, actor=staff_user)
    assert public_count(demo) == before - 1
    assert public_at(demo, DEMO_DAY1_END) == DEMO_PUBLIC_AT_DAY1_END
    assert AuditEvent.objects.filter(action="registry.person.merged", actor=staff_user).count() == 1
