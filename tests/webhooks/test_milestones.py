"""milestone.reached: recorded once per threshold by the count fold, announced with a valid signature."""

from datetime import timedelta

import pytest
from django.utils import timezone

from letters.counts import letter_count_refresh
from letters.models import Milestone
from letters.services.signing import signature_withdraw
from tests.builders import signed
from tests.factories import LetterFactory
from tests.webhooks.helpers import drain, forget_queued, subscribe
from webhooks.services import letter_milestones_set

pytestmark = pytest.mark.django_db


def _fold(letter):
    letter_count_refresh(letter_id=letter.pk, now=timezone.now() + timedelta(seconds=5))


def test_an_owners_receiver_gets_milestone_reached_at_150_with_a_valid_signature(receiver, settings):
    settings.MILESTONE_THRESHOLDS = [100]
    letter = LetterFactory(slug="one-fifty")
    forget_queued()
    letter_milestones_set(letter=letter, thresholds=[150])
    subscribe(letter, receiver, ["milestone.reached"])
    _fold(letter)
    signatures = [signed(letter, email=f"s{n}@example.org") for n in range(149)]
    _fold(letter)
    drain()
    assert [r.payload["data"]["threshold"] for r in receiver.received] == [100]

    signed(letter, email="the150th@example.org")
    _fold(letter)
    drain()
    got = receiver.received[-1]
    assert list(got.verified.values()) == [True]
    assert got.payload["type"] == "milestone.reached"
    assert got.payload["data"] == {
        "letter": "one-fifty",
        "threshold": 150,
        "counts": {"public": 150},
        "links": {
            "letter": "https://undersigned.example/letters/one-fifty/",
            "api": "https://undersigned.example/api/v1/letters/one-fifty/",
        },
    }

    signature_withdraw(signature=signatures[0])  # below 150 again, then back
    _fold(letter)
    signed(letter, email="again@example.org")
    _fold(letter)
    drain()
    assert len(receiver.received) == 2
    assert list(Milestone.objects.filter(letter=letter).values_list("threshold", "count")) == [(100, 149), (150, 150)]


def test_a_fold_that_passes_several_thresholds_records_each(settings):
    settings.MILESTONE_THRESHOLDS = [2, 3, 10]
    letter = LetterFactory()
    for n in range(4):
        signed(letter, email=f"s{n}@example.org")
    _fold(letter)
    assert list(Milestone.objects.filter(letter=letter).values_list("threshold", "count")) == [(2, 4), (3, 4)]


@pytest.mark.parametrize("bad", [[0], [-5], ["100"], [True], [10_000_001], "150", list(range(1, 30))])
def test_own_thresholds_must_be_a_short_list_of_positive_whole_numbers(bad):
    from django.core.exceptions import ValidationError

    letter = LetterFactory()
    with pytest.raises(ValidationError) as raised:
        letter_milestones_set(letter=letter, thresholds=bad)
    assert list(raised.value.message_dict) == ["thresholds"]
    letter.refresh_from_db()
    assert letter.milestone_thresholds == []
