from datetime import timedelta

import pytest
from django.utils import timezone

from moderation.models import Invalidation
from organizing.models import Membership
from tests.builders import public_count, signed
from tests.factories import LetterFactory
from tests.organizing.conftest import member

BASE = "/api/v1/manage/letters/wave/invalidations/"


@pytest.fixture
def letter(db):
    letter = LetterFactory(slug="wave")
    for n in range(3):
        signed(letter, name=f"Real {n}", email=f"real{n}@example.org", ip_address=f"198.51.100.{n}")
    for n in range(2):
        signed(letter, name=f"Bot {n}", email=f"bot{n}@spam.example", ip_address=f"203.0.113.{n}")
    return letter


@pytest.fixture
def moderator_client(client, letter):
    client.force_login(member(letter, Membership.Role.MODERATOR, username="mod"))
    return client


def post(client, url, data=None):
    return client.post(url, data or {}, content_type="application/json")


def test_preview_start_progress_and_undo(moderator_client, letter, django_capture_on_commit_callbacks):
    since = (timezone.now() - timedelta(hours=1)).isoformat()
    criteria = {"ip_prefix": "203.0.113.0/24", "signed_after": since}
    preview = post(moderator_client, BASE + "preview", {"criteria": criteria})
    assert preview.status_code == 200
    body = preview.json()
    assert (body["count"], body["live"], body["needs_confirmation"]) == (2, 5, True)
    assert sorted(s["name"] for s in body["sample"]) == ["Bot 0", "Bot 1"]
    assert "email" not in body["sample"][0] and "ip_address" not in body["sample"][0]
    refused = post(moderator_client, BASE, {"criteria": criteria, "reason": "Bot wave"})
    assert refused.status_code == 400
    assert list(refused.json()["errors"]) == ["confirm_large"]
    with django_capture_on_commit_callbacks(execute=True):
        started = post(moderator_client, BASE, {"criteria": criteria, "reason": "Bot wave", "confirm_large": True})
    assert started.status_code == 202
    one = moderator_client.get(f"{BASE}{started.json()['id']}/").json()
    assert (one["status"], one["removed"], one["matched"]) == ("done", 2, 2)
    assert public_count(letter) == 3
    with django_capture_on_commit_callbacks(execute=True):
        undone = post(moderator_client, f"{BASE}{one['id']}/undo")
    assert undone.status_code == 202
    assert moderator_client.get(f"{BASE}{one['id']}/").json()["status"] == "undone"
    assert public_count(letter) == 5
    again = post(moderator_client, f"{BASE}{one['id']}/undo")
    assert (again.status_code, again.json()["detail"]) == (
        409,
        "Only a finished or cancelled invalidation can be undone.",
    )


def test_empty_criteria_are_refused(moderator_client):
    response = post(moderator_client, BASE + "preview", {"criteria": {}})
    assert response.status_code == 400
    assert response.json()["errors"] == {
        "criteria": ["Give at least one criterion: an invalidation never matches a whole letter by default."]
    }


def test_viewers_cannot_and_other_letters_are_not_found(client, letter):
    client.force_login(member(letter, Membership.Role.VIEWER, username="viewer"))
    assert post(client, BASE + "preview", {"criteria": {"ip": "203.0.113.1"}}).status_code == 403
    other = LetterFactory(slug="other")
    client.force_login(member(other, Membership.Role.OWNER, second_factor=True, username="other-owner"))
    assert post(client, BASE + "preview", {"criteria": {"ip": "203.0.113.1"}}).status_code == 404
    assert Invalidation.objects.count() == 0
