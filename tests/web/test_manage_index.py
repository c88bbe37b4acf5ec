"""/manage/: a member's letters, and for staff every other letter too (they may open any letter's pages)."""

import pytest

from organizing.models import Membership
from tests.factories import LetterFactory, UserFactory
from tests.organizing.conftest import member

pytestmark = pytest.mark.django_db


def test_staff_see_every_letter_they_are_not_a_member_of(client, staff_user):
    LetterFactory(slug="the-demo", title="The demo letter")
    client.force_login(staff_user)
    page = client.get("/manage/").content.decode()
    assert "Every other letter (you are staff)" in page
    assert '<a href="/manage/the-demo/">The demo letter</a>' in page


def test_an_organizer_sees_only_their_letters(client):
    own = LetterFactory(slug="ours", title="Ours")
    LetterFactory(slug="theirs", title="Theirs")
    client.force_login(member(own, Membership.Role.EDITOR, username="editor"))
    page = client.get("/manage/").content.decode()
    assert '<a href="/manage/ours/">Ours</a>' in page
    assert "Theirs" not in page and "you are staff" not in page


def test_a_signed_in_stranger_sees_no_letter(client):
    LetterFactory(slug="theirs", title="Theirs")
    client.force_login(UserFactory(username="someone"))
    assert "Theirs" not in client.get("/manage/").content.decode()
