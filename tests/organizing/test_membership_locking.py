"""Two owners demoting or removing each other at once: the owner locks serialize them and one owner is left."""

import pytest
from django.core.exceptions import ValidationError

from organizing.models import Membership
from organizing.services import membership_remove, membership_role_change
from tests.concurrency import run_together
from tests.factories import LetterFactory
from tests.organizing.conftest import member

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("rounds", range(2))
def test_two_owners_stepping_down_at_once_leave_one_owner(rounds):
    letter = LetterFactory(slug=f"race-{rounds}")
    first = member(letter, "owner", second_factor=True, username=f"first-{rounds}")
    second = member(letter, "owner", second_factor=True, username=f"second-{rounds}")

    def demote(user):
        return lambda: membership_role_change(
            membership=Membership.objects.select_related("letter").get(user=user), role="editor", actor=user
        )

    def leave(user):
        return lambda: membership_remove(
            membership=Membership.objects.select_related("letter").get(user=user), actor=user
        )

    steps = [demote(first), leave(second)] if rounds % 2 else [demote(first), demote(second)]
    errors = run_together(*steps)
    assert len(errors) == 1 and isinstance(errors[0], ValidationError), errors
    assert Membership.objects.filter(letter=letter, role="owner").count() == 1
