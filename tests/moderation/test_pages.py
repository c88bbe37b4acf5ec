import pytest

from moderation.models import Invalidation
from organizing.models import Membership
from tests.builders import public_count, signed
from tests.factories import LetterFactory
from tests.organizing.conftest import member


@pytest.fixture
def letter(db):
    letter = LetterFactory(slug="wave")
    for n in range(8):
        signed(letter, name=f"Real {n}", email=f"real{n}@example.org", ip_address=f"198.51.100.{n}")
    signed(letter, name="Bot A", email="a@spam.example", ip_address="203.0.113.7")
    return letter


@pytest.fixture
def moderator(client, letter):
    client.force_login(member(letter, Membership.Role.MODERATOR, username="mod"))
    return client


def test_preview_then_start_then_undo_without_javascript(moderator, letter, django_capture_on_commit_callbacks):
    page = moderator.post("/manage/wave/invalidations/", {"ip_prefix": "203.0.113.0/24", "action": "preview"})
    html = page.content.decode()
    assert page.status_code == 200
    assert "1 signature match (0.11 of 9 live)" in html
    assert "<td>Bot A</td>" in html
    assert Invalidation.objects.count() == 0
    missing_reason = moderator.post("/manage/wave/invalidations/", {"ip_prefix": "203.0.113.0/24", "action": "start"})
    assert missing_reason.status_code == 400
    assert "Say why (kept in the audit trail)." in missing_reason.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        moderator.post(
            "/manage/wave/invalidations/", {"ip_prefix": "203.0.113.0/24", "reason": "Bot", "action": "start"}
        )
    assert public_count(letter) == 8
    invalidation = Invalidation.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        moderator.post(f"/manage/wave/invalidations/{invalidation.public_id}/undo/")
    assert public_count(letter) == 9


def test_empty_criteria_are_refused_on_the_page(moderator):
    response = moderator.post("/manage/wave/invalidations/", {"action": "preview"})
    assert response.status_code == 400
    assert "Give at least one criterion" in response.content.decode()


def test_another_letters_invalidations_are_not_found(moderator, client):
    other = LetterFactory(slug="other")
    assert moderator.get("/manage/other/invalidations/").status_code == 404
    owner = member(other, Membership.Role.OWNER, second_factor=True, username="o")
    signed(other, name="X", email="x@example.org", ip_address="192.0.2.1")
    from moderation.services import invalidation_start

    theirs = invalidation_start(letter=other, criteria={"ip": "192.0.2.1"}, reason="r", confirm_large=True, actor=owner)
    for action in ("undo", "cancel"):
        assert moderator.post(f"/manage/wave/invalidations/{theirs.public_id}/{action}/").status_code == 404
    theirs.refresh_from_db()
    assert (theirs.status, theirs.cancel_requested) == ("queued", False)
