from datetime import UTC, datetime, timedelta

import pytest

from letters.models import Signature, SignatureEvent
from letters.services.verification import signature_reject
from registry.merge import MergeError, duplicate_dismiss, duplicate_merge, person_merge, person_unmerge
from registry.models import Affiliation, AuditEvent, DuplicateCandidate, PersonEmail
from tests.builders import public_count
from tests.factories import LetterFactory, PersonFactory

pytestmark = pytest.mark.django_db
T0 = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)


@pytest.fixture
def twice_signed(sign, open_letter):
    """The same person signed one letter twice with two addresses (and a second letter once)."""
    first = sign("Katherine Moussouris", "katherine@luta.example", organization="Luta Security", at=T0)
    second = sign("Katie Moussouris", "katie@gmail.com", organization="Luta Security", at=T0 + timedelta(hours=5))
    other_letter = LetterFactory()
    elsewhere = sign("Katie Moussouris", "katie@gmail.com", letter=other_letter, at=T0 + timedelta(hours=6))
    return first, second, elsewhere


def test_merge_keeps_the_earliest_confirmed_signature_and_counts_each_person_once(
    twice_signed, open_letter, staff_user
):
    first, second, elsewhere = twice_signed
    survivor, duplicate = first.person, second.person
    assert public_count(open_letter) == 2

    person_merge(survivor=survivor, duplicate=duplicate, actor=staff_user, reason="same person", at=T0 + timedelta(1))

    first.refresh_from_db(), second.refresh_from_db(), elsewhere.refresh_from_db(), duplicate.refresh_from_db()
    assert public_count(open_letter) == 1
    assert public_count(elsewhere.letter) == 1
    assert (first.status, first.person) == (Signature.Status.CONFIRMED, survivor)
    assert (second.status, second.merged_into, second.person) == (Signature.Status.MERGED, first, survivor)
    assert (elsewhere.status, elsewhere.person) == (Signature.Status.CONFIRMED, survivor)
    assert duplicate.merged_into == survivor
    assert set(PersonEmail.objects.filter(person=survivor).values_list("email_key", flat=True)) == {
        "katherine@luta.example",
        "katie@gmail.com",
    }
    assert not Affiliation.objects.filter(person=duplicate).exists()
    event = SignatureEvent.objects.get(signature=second, kind=SignatureEvent.Kind.MERGED)
    assert (event.visible_before, event.visible_after, event.actor) == (True, False, staff_user)
    assert event.data == {"into": first.public_id}
    audit = AuditEvent.objects.get(action="registry.person.merged")
    assert (audit.actor, audit.data["reason"], audit.data["survivor"]) == (staff_user, "same person", survivor.pk)


def test_merge_keeps_the_earlier_one_even_when_the_survivor_signed_later(twice_signed, open_letter):
    first, second, _ = twice_signed
    person_merge(survivor=second.person, duplicate=first.person)
    first.refresh_from_db(), second.refresh_from_db()
    assert first.status == Signature.Status.CONFIRMED
    assert (second.status, second.merged_into) == (Signature.Status.MERGED, first)
    assert public_count(open_letter) == 1


def test_unmerge_restores_people_emails_affiliations_and_signatures_exactly(twice_signed, open_letter, staff_user):
    first, second, _elsewhere = twice_signed
    survivor, duplicate = first.person, second.person
    before = {
        "emails": sorted(PersonEmail.objects.values_list("pk", "person_id")),
        "affiliations": sorted(Affiliation.objects.values_list("pk", "person_id", "is_current")),
        "signatures": sorted(Signature.objects.values_list("pk", "person_id", "status", "merged_into")),
    }
    person_merge(survivor=survivor, duplicate=duplicate, actor=staff_user)
    person_unmerge(duplicate=duplicate, actor=staff_user, reason="different people after all")

    duplicate.refresh_from_db()
    assert duplicate.merged_into is None
    assert sorted(PersonEmail.objects.values_list("pk", "person_id")) == before["emails"]
    assert sorted(Signature.objects.values_list("pk", "person_id", "status", "merged_into")) == before["signatures"]
    assert sorted(Affiliation.objects.values_list("pk", "person_id", "is_current")) == before["affiliations"]
    assert public_count(open_letter) == 2
    kinds = list(SignatureEvent.objects.filter(signature=second).values_list("kind", flat=True))
    assert kinds == ["created", "confirmed", "merged", "unmerged"]
    unmerged = SignatureEvent.objects.get(signature=second, kind=SignatureEvent.Kind.UNMERGED)
    assert (unmerged.visible_before, unmerged.visible_after) == (False, True)
    assert AuditEvent.objects.filter(action="registry.person.unmerged", actor=staff_user).count() == 1


def test_unmerge_does_not_revive_a_signature_rejected_meanwhile(twice_signed, open_letter):
    first, second, _ = twice_signed
    duplicate = second.person
    person_merge(survivor=first.person, duplicate=duplicate)
    Signature.objects.filter(pk=second.pk).update(status=Signature.Status.REJECTED)
    person_unmerge(duplicate=duplicate)
    second.refresh_from_db()
    assert second.status == Signature.Status.REJECTED
    assert public_count(open_letter) == 1


def test_merge_refuses_self_already_merged_and_unmerge_refuses_unmerged(twice_signed):
    first, second, _ = twice_signed
    with pytest.raises(MergeError):
        person_merge(survivor=first.person, duplicate=first.person)
    person_merge(survivor=first.person, duplicate=second.person)
    with pytest.raises(MergeError):
        person_merge(survivor=first.person, duplicate=second.person)
    with pytest.raises(MergeError):
        person_unmerge(duplicate=first.person)
    assert AuditEvent.objects.filter(action="registry.person.merged").count() == 1


def test_merge_of_a_rejected_signature_leaves_it_alone(twice_signed, open_letter):
    first, second, _ = twice_signed
    signature_reject(signature=second, reason="spam")
    person_merge(survivor=first.person, duplicate=second.person)
    second.refresh_from_db()
    assert second.status == Signature.Status.REJECTED
    assert public_count(open_letter) == 1


def test_duplicate_merge_marks_the_candidate_and_dismiss_is_final(twice_signed, staff_user):
    first, second, _ = twice_signed
    candidate = DuplicateCandidate.objects.create(
        person_a=first.person, person_b=second.person, score=0.97, reasons=["surname identical"]
    )
    duplicate_merge(candidate=candidate, actor=staff_user)
    candidate.refresh_from_db()
    assert (candidate.status, candidate.decided_by) == (DuplicateCandidate.Status.MERGED, staff_user)
    with pytest.raises(MergeError):
        duplicate_merge(candidate=candidate, actor=staff_user)

    person_unmerge(duplicate=second.person)
    candidate.refresh_from_db()
    assert candidate.status == DuplicateCandidate.Status.OPEN  # back in the queue after an unmerge
    duplicate_dismiss(candidate=candidate, actor=staff_user)
    candidate.refresh_from_db()
    assert candidate.status == DuplicateCandidate.Status.DISMISSED
    assert AuditEvent.objects.filter(action="registry.duplicate.dismissed").count() == 1


def test_merging_people_without_signatures_moves_their_emails():
    a, b = PersonFactory(), PersonFactory()
    PersonEmail.objects.create(person=b, email="b@example.org", email_key="b@example.org")
    person_merge(survivor=a, duplicate=b)
    assert PersonEmail.objects.get(email_key="b@example.org").person == a
