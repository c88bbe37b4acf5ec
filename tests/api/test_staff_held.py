"""Staff API for the held queue: list held signatures (all letters or one), hold, release; each audited."""

import pytest
from rest_framework.test import APIClient

from letters.models import Signature, SignatureEvent
from organizing.permissions import SECOND_FACTOR_MESSAGE
from registry.models import AuditEvent
from tests.builders import signed
from tests.factories import LetterFactory, UserFactory
from tests.organizing.conftest import with_second_factor

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_api(staff_user):
    api = APIClient()
    api.force_login(with_second_factor(staff_user))
    return api


def iso(moment):
    return moment.isoformat().replace("+00:00", "Z")


def test_the_held_list_shows_held_signatures_oldest_first_with_their_reason_and_letter(staff_api, open_letter):
    other = LetterFactory(slug="other-letter")
    first = signed(open_letter, name="Ada Lovelace", email="ada@example.org")
    second = signed(other, name="Grace Hopper", email="grace@example.org", title="CEO")
    signed(open_letter, name="Visible Person", email="visible@example.org")
    Signature.objects.filter(pk=first.pk).update(hold_reason="rate_limited")
    Signature.objects.filter(pk=second.pk).update(hold_reason="senior_title")
    response = staff_api.get("/api/v1/signatures/held/")
    assert response.status_code == 200
    body = response.json()
    assert (body["count"], body["next"], body["previous"]) == (2, None, None)
    first.refresh_from_db()
    assert body["results"][0] == {
        "id": first.public_id,
        "letter": open_letter.slug,
        "name": "Ada Lovelace",
        "title": "",
        "organization_name": "",
        "email": "ada@example.org",
        "status": "confirmed",
        "verification_level": "email",
        "hold_reason": "rate_limited",
        "hold_reason_label": "Signed over the rate limit",
        "signed_at": iso(first.signed_at),
        "confirmed_at": iso(first.confirmed_at),
    }
    assert [row["id"] for row in body["results"]] == [first.public_id, second.public_id]
    only = staff_api.get("/api/v1/signatures/held/?letter=other-letter").json()
    assert [row["id"] for row in only["results"]] == [second.public_id]


def test_a_blank_letter_filter_is_a_field_error(staff_api):
    response = staff_api.get("/api/v1/signatures/held/?letter=")
    assert response.status_code == 400
    assert response.json() == {"detail": "Invalid input.", "errors": {"letter": ["This field may not be blank."]}}


def test_staff_hold_then_release_a_signature_and_both_are_audited(staff_api, open_letter, staff_user):
    signature = signed(open_letter)
    held = staff_api.post(f"/api/v1/signatures/{signature.public_id}/hold")
    assert held.status_code == 200
    assert (held.json()["hold_reason"], held.json()["status"]) == ("admin", "confirmed")
    signature.refresh_from_db()
    assert not signature.is_visible
    released = staff_api.post(f"/api/v1/signatures/{signature.public_id}/release")
    assert (released.status_code, released.json()["hold_reason"]) == (200, "")
    signature.refresh_from_db()
    assert signature.is_visible
    kinds = list(SignatureEvent.objects.filter(signature=signature).values_list("kind", flat=True))
    assert kinds[-2:] == ["held", "released"]
    actors = AuditEvent.objects.filter(
        target_id=str(signature.pk), action__in=["letters.signature.held", "letters.signature.released"]
    )
    assert {event.actor for event in actors} == {staff_user}


def test_releasing_a_signature_that_is_not_held_is_409_and_changes_nothing(staff_api, open_letter):
    signature = signed(open_letter)
    response = staff_api.post(f"/api/v1/signatures/{signature.public_id}/release")
    assert response.status_code == 409
    assert response.json() == {"detail": "This signature is not held.", "errors": {}}
    assert not SignatureEvent.objects.filter(signature=signature, kind="released").exists()


def test_holding_a_withdrawn_signature_is_409(staff_api, open_letter):
    signature = signed(open_letter)
    Signature.objects.filter(pk=signature.pk).update(status="withdrawn")
    response = staff_api.post(f"/api/v1/signatures/{signature.public_id}/hold")
    assert response.status_code == 409
    assert response.json() == {"detail": "Only pending or confirmed signatures can be held.", "errors": {}}


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/v1/signatures/held/"),
        ("post", "/api/v1/signatures/abc/hold"),
        ("post", "/api/v1/signatures/abc/release"),
    ],
)
def test_non_staff_cannot_see_or_change_the_held_queue(method, path):
    api = APIClient()
    api.force_authenticate(UserFactory(is_staff=False))
    response = getattr(api, method)(path)
    assert response.status_code == 403
    assert response.json() == {"detail": "You do not have permission to perform this action.", "errors": {}}


@pytest.mark.parametrize("action", ["hold", "release", "verify", "reject"])
def test_staff_without_a_second_factor_may_read_the_queue_but_not_change_it(staff_user, open_letter, action):
    signature = signed(open_letter)
    Signature.objects.filter(pk=signature.pk).update(hold_reason="senior_title")
    api = APIClient()
    api.force_login(staff_user)
    assert api.get("/api/v1/signatures/held/").json()["count"] == 1
    body = {"method": "manual", "evidence": "Called", "reason": "Spam"}
    response = api.post(f"/api/v1/signatures/{signature.public_id}/{action}", body, format="json")
    assert (response.status_code, response.json()) == (403, {"detail": SECOND_FACTOR_MESSAGE, "errors": {}})
    signature.refresh_from_db()
    assert (signature.status, signature.hold_reason, signature.verification_level) == (
        "confirmed",
        "senior_title",
        "email",
    )


def test_unknown_signature_is_404(staff_api):
    assert staff_api.post("/api/v1/signatures/nope/hold").status_code == 404
