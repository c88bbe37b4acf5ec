import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from letters.models import Signature, SignatureEvent, VerificationRecord
from letters.services.signing import signature_confirm, signature_create
from registry.models import DuplicateCandidate, Person
from registry.protected import protected_name_add
from tests.factories import PersonFactory, StaffFactory, UserFactory
from tests.organizing.conftest import with_second_factor

pytestmark = pytest.mark.django_db


@pytest.fixture
def api():
    return APIClient()


@pytest.fixture
def staff_api(api, staff_user):
    api.force_authenticate(user=None)
    api.force_login(with_second_factor(staff_user))
    return api


@pytest.fixture
def held(open_letter):
    protected_name_add(name="Maximilian Thornbury")
    result = signature_create(
        letter=open_letter,
        name="Мaximilian Thornbury",
        email="max@gmail.com",
        title="CEO",
        send_email=False,
        check_rate_limits=False,
    )
    return signature_confirm(signature=result.signature)


@pytest.fixture
def candidate(open_letter):
    a = PersonFactory(display_name="Katherine Lindqvist")
    b = PersonFactory(display_name="Katie Lindqvist")
    return DuplicateCandidate.objects.create(
        person_a=a, person_b=b, score=0.97, reasons=["Katherine ≈ Katie (nickname or spelling)", "surname identical"]
    )


def verify_url(signature):
    return f"/api/v1/signatures/{signature.public_id}/verify"


def reject_url(signature):
    return f"/api/v1/signatures/{signature.public_id}/reject"


EVIDENCE = {"method": "manual", "evidence": "Confirmed by phone via the company's published number"}


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("post", "/api/v1/signatures/abc/verify"),
        ("post", "/api/v1/signatures/abc/reject"),
        ("get", "/api/v1/duplicates/"),
        ("post", "/api/v1/duplicates/1/merge"),
        ("post", "/api/v1/duplicates/1/dismiss"),
    ],
)
def test_anonymous_and_non_staff_users_are_refused(api, method, path):
    response = getattr(api, method)(path, {}, format="json")
    assert response.status_code in (401, 403)
    assert set(response.json()) == {"detail", "errors"}
    api.force_authenticate(UserFactory(is_staff=False))
    response = getattr(api, method)(path, {}, format="json")
    assert response.status_code == 403
    assert response.json() == {"detail": "You do not have permission to perform this action.", "errors": {}}


def test_non_staff_cannot_verify_and_nothing_changes(api, held):
    api.force_authenticate(UserFactory(is_staff=False))
    assert api.post(verify_url(held), EVIDENCE, format="json").status_code == 403
    held.refresh_from_db()
    assert held.hold_reason == "protected_name"
    assert VerificationRecord.objects.count() == 0


def test_staff_verifies_a_held_signature_with_evidence_by_session(staff_api, held, staff_user):
    response = staff_api.post(verify_url(held), {**EVIDENCE, "evidence_url": "https://example.org/call"}, format="json")
    assert response.status_code == 200
    assert response.json() == {
        "id": held.public_id,
        "name": "Мaximilian Thornbury",
        "title": "CEO",
        "organization_name": "",
        "email": "max@gmail.com",
        "status": "confirmed",
        "verification_level": "manual",
        "hold_reason": "",
        "confirmed_at": held.confirmed_at.isoformat().replace("+00:00", "Z"),
    }
    record = VerificationRecord.objects.get(signature=held)
    assert (record.evidence_url, record.verifier) == ("https://example.org/call", staff_user)
    held.refresh_from_db()
    assert held.is_visible


def test_staff_verifies_with_a_token(api, held):
    token = Token.objects.create(user=with_second_factor(StaffFactory(username="robot")))
    api.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    response = api.post(verify_url(held), {"method": "invited", "evidence": "On the organizers' list"}, format="json")
    assert response.status_code == 200
    assert response.json()["verification_level"] == "invited"


def test_verify_with_bad_input_gives_field_errors_and_stores_nothing(staff_api, held):
    response = staff_api.post(verify_url(held), {"method": "domain", "evidence_url": "not a url"}, format="json")
    assert response.status_code == 400
    body = response.json()
    assert body["detail"] == "Invalid input."
    assert set(body["errors"]) == {"method", "evidence", "evidence_url"}
    assert VerificationRecord.objects.count() == 0


def test_verify_unknown_signature_is_404(staff_api):
    response = staff_api.post("/api/v1/signatures/nope/verify", EVIDENCE, format="json")
    assert response.status_code == 404
    assert set(response.json()) == {"detail", "errors"}


def test_verify_a_pending_signature_is_409(staff_api, open_letter):
    pending = signature_create(
        letter=open_letter, name="Ada", email="ada@example.org", send_email=False, check_rate_limits=False
    ).signature
    response = staff_api.post(verify_url(pending), EVIDENCE, format="json")
    assert response.status_code == 409
    assert response.json() == {"detail": "Only confirmed signatures can be verified.", "errors": {}}


def test_staff_rejects_with_a_private_reason(staff_api, held):
    response = staff_api.post(
        reject_url(held),
        {"reason": "Impersonation: the real person denied signing", "public_reason": "Impersonation"},
        format="json",
    )
    assert response.status_code == 200
    assert response.json()["status"] == "rejected"
    held.refresh_from_db()
    assert held.rejection_reason == "Impersonation: the real person denied signing"
    event = SignatureEvent.objects.get(signature=held, kind="rejected")
    assert event.data == {"public_reason": "Impersonation"}


def test_reject_needs_a_reason_and_rejecting_twice_is_409(staff_api, held):
    response = staff_api.post(reject_url(held), {}, format="json")
    assert (response.status_code, list(response.json()["errors"])) == (400, ["reason"])
    assert staff_api.post(reject_url(held), {"reason": "spam"}, format="json").status_code == 200
    second = staff_api.post(reject_url(held), {"reason": "spam"}, format="json")
    assert second.status_code == 409
    assert SignatureEvent.objects.filter(signature=held, kind="rejected").count() == 1


def test_duplicates_list_shows_open_pairs_with_reasons_and_no_emails(staff_api, candidate):
    DuplicateCandidate.objects.create(
        person_a=PersonFactory(), person_b=PersonFactory(), score=0.9, status=DuplicateCandidate.Status.DISMISSED
    )
    response = staff_api.get("/api/v1/duplicates/")
    assert response.status_code == 200
    page = response.json()
    assert (page["count"], page["next"], page["previous"]) == (1, None, None)
    [row] = page["results"]
    assert row["id"] == candidate.pk
    assert row["person_a"] == {
        "id": candidate.person_a.public_id,
        "name": "Katherine Lindqvist",
        "merged_into": None,
    }
    assert row["reasons"] == ["Katherine ≈ Katie (nickname or spelling)", "surname identical"]
    assert (row["score"], row["status"]) == (0.97, "open")
    assert "@" not in response.content.decode()
    dismissed = staff_api.get("/api/v1/duplicates/?status=dismissed").json()["results"]
    assert [r["status"] for r in dismissed] == ["dismissed"]


def test_duplicates_list_is_paginated_best_score_first(staff_api):
    for score in (0.9, 0.99, 0.95):
        DuplicateCandidate.objects.create(person_a=PersonFactory(), person_b=PersonFactory(), score=score)
    first = staff_api.get("/api/v1/duplicates/?page_size=2").json()
    assert first["count"] == 3
    assert [r["score"] for r in first["results"]] == [0.99, 0.95]
    second = staff_api.get(first["next"]).json()
    assert [r["score"] for r in second["results"]] == [0.9]


def test_merge_endpoint_merges_the_pair_and_a_second_merge_is_409(staff_api, candidate):
    response = staff_api.post(f"/api/v1/duplicates/{candidate.pk}/merge")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "merged"
    assert body["person_b"]["merged_into"] == candidate.person_a.public_id
    assert Person.objects.get(pk=candidate.person_b_id).merged_into_id == candidate.person_a_id
    assert staff_api.post(f"/api/v1/duplicates/{candidate.pk}/merge").status_code == 409
    assert staff_api.post(f"/api/v1/duplicates/{candidate.pk}/dismiss").status_code == 409


def test_dismiss_endpoint_dismisses(staff_api, candidate):
    response = staff_api.post(f"/api/v1/duplicates/{candidate.pk}/dismiss")
    assert (response.status_code, response.json()["status"]) == (200, "dismissed")
    assert Person.objects.get(pk=candidate.person_b_id).merged_into_id is None
    assert staff_api.post("/api/v1/duplicates/999999/dismiss").status_code == 404


def test_merge_through_the_api_keeps_the_public_count_right(staff_api, open_letter):
    from tests.builders import public_count

    signatures = []
    for name, email in [("Katherine Lindqvist", "k@adobe.example"), ("Katie Lindqvist", "katie@gmail.com")]:
        result = signature_create(letter=open_letter, name=name, email=email, send_email=False, check_rate_limits=False)
        signatures.append(signature_confirm(signature=result.signature))
    a, b = sorted(s.person_id for s in signatures)
    candidate = DuplicateCandidate.objects.create(person_a_id=a, person_b_id=b, score=0.95)
    assert public_count(open_letter) == 2
    assert staff_api.post(f"/api/v1/duplicates/{candidate.pk}/merge").status_code == 200
    assert public_count(open_letter) == 1
    assert Signature.objects.filter(letter=open_letter, status="merged").count() == 1


def test_staff_endpoints_are_documented_in_the_schema(staff_api):
    response = staff_api.get("/api/v1/schema/?format=json")
    paths = response.json()["paths"]
    for path in [
        "/api/v1/signatures/{public_id}/verify",
        "/api/v1/signatures/{public_id}/reject",
        "/api/v1/duplicates/",
        "/api/v1/duplicates/{id}/merge",
        "/api/v1/duplicates/{id}/dismiss",
    ]:
        assert path in paths, path
    verify = paths["/api/v1/signatures/{public_id}/verify"]["post"]
    assert {"200", "400", "403", "404", "409"} <= set(verify["responses"])


def test_duplicates_list_refuses_an_unknown_status(staff_api):
    response = staff_api.get("/api/v1/duplicates/?status=bogus")
    assert response.status_code == 400
    assert response.json() == {
        "detail": "Invalid input.",
        "errors": {"status": ["Choose one of open, merged, dismissed."]},
    }
