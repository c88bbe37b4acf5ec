"""A JSON body must carry the types the published schema states (DRF alone would store `"comment": 0` as "0" and
take "yes" for true), and a number in a path that no column can hold is a 404 before any query, never a 500."""

import json

import pytest
from rest_framework.test import APIClient

from api.serializers.base import NOT_A_BOOLEAN, NOT_A_STRING, NOT_AN_INTEGER, json_type_errors
from api.serializers.manage import LetterCreateInputSerializer
from letters.models import Letter, Signature
from organizing.models import Membership
from tests.factories import LetterFactory, OrganizationFactory, UserFactory
from tests.organizing.conftest import with_second_factor

pytestmark = pytest.mark.django_db

SIGNER = {"name": "Ada Lovelace", "email": "ada@example.org"}
NOT_FOUND = {"detail": "Not found.", "errors": {}}
HUGE = str(2**65 + 1)  # past bigint and SQLite's 64 bits


def invalid(**errors) -> dict:
    return {"detail": "Invalid input.", "errors": errors}


@pytest.fixture
def client(client):
    client.raise_request_exception = False  # a 500 must show as the answer, not as a test error
    return client


@pytest.fixture
def organizer(db):
    return with_second_factor(UserFactory(username="organizer"))


def api_for(user) -> APIClient:
    api = APIClient()
    api.force_login(user)
    return api


@pytest.mark.parametrize(
    ("extra", "errors"),
    [
        ({"comment": 0}, {"comment": [NOT_A_STRING]}),
        ({"name": 5}, {"name": [NOT_A_STRING]}),
        ({"email": ["ada@example.org"]}, {"email": [NOT_A_STRING]}),
        ({"public": "yes"}, {"public": [NOT_A_BOOLEAN]}),
        ({"public": 1}, {"public": [NOT_A_BOOLEAN]}),
        ({"title": {"a": 1}, "public": "false"}, {"title": [NOT_A_STRING], "public": [NOT_A_BOOLEAN]}),
    ],
)
def test_a_signature_with_a_value_of_the_wrong_json_type_is_a_400_and_stores_nothing(
    client, open_letter, extra, errors
):
    body = json.dumps({**SIGNER, **extra})
    response = client.post(f"/api/v1/letters/{open_letter.slug}/signatures/", body, content_type="application/json")
    assert (response.status_code, response.json()) == (400, invalid(**errors))
    assert Signature.objects.count() == 0


def test_a_signature_with_the_schema_types_is_still_accepted(client, open_letter):
    body = json.dumps({**SIGNER, "public": False, "comment": "", "title": "CISO"})
    response = client.post(f"/api/v1/letters/{open_letter.slug}/signatures/", body, content_type="application/json")
    assert response.status_code == 202
    assert Signature.objects.get().name_shown is False


def test_a_token_that_is_a_number_is_a_400_naming_the_field(client):
    response = client.post("/api/v1/signatures/confirm/", '{"token": 12345}', content_type="application/json")
    assert (response.status_code, response.json()) == (400, invalid(token=[NOT_A_STRING]))


def test_the_markdown_preview_refuses_a_body_that_is_not_text(organizer):
    response = api_for(organizer).post("/api/v1/manage/preview", {"body": 0}, format="json")
    assert (response.status_code, response.json()) == (400, invalid(body=[NOT_A_STRING]))


def test_a_nested_value_of_the_wrong_type_is_named_by_its_path(organizer):
    OrganizationFactory(name="HackerOne", slug="hackerone")
    body = {
        "slug": "coalition-letter",
        "title": "Defenders need the best tools",
        "body": "Text.",
        "recipients": [{"name": "Howard Lutnick", "role": "Secretary"}, {"name": 7, "role": "Director"}],
        "sponsors": ["hackerone", 3],
    }
    response = api_for(organizer).post("/api/v1/manage/letters/", body, format="json")
    assert (response.status_code, response.json()) == (
        400,
        {"detail": "Invalid input.", "errors": {"recipients.1.name": [NOT_A_STRING], "sponsors.1": [NOT_A_STRING]}},
    )
    assert Letter.objects.count() == 0
    assert Membership.objects.count() == 0


def test_form_data_and_query_parameters_are_text_and_not_checked_for_json_types():
    from django.http import QueryDict

    fields = LetterCreateInputSerializer().fields
    assert json_type_errors(fields, QueryDict("title=7&slug=x")) == {}
    assert json_type_errors(fields, {"title": 7, "slug": None}) == {"title": [NOT_A_STRING]}


def test_an_integer_field_refuses_text_and_booleans():
    from rest_framework import serializers

    fields = {"n": serializers.IntegerField()}
    fields["n"].bind("n", None)  # type: ignore[arg-type]
    assert json_type_errors(fields, {"n": "7"}) == {"n": [NOT_AN_INTEGER]}
    assert json_type_errors(fields, {"n": True}) == {"n": [NOT_AN_INTEGER]}
    assert json_type_errors(fields, {"n": 7}) == {}


def test_page_size_given_as_text_in_the_query_still_works(client, open_letter):
    response = client.get(f"/api/v1/letters/{open_letter.slug}/signatures/?page_size=5")
    assert response.status_code == 200


@pytest.mark.parametrize(
    "path",
    [
        f"/api/v1/letters/{{slug}}/diff/1/{HUGE}/",
        f"/api/v1/letters/{{slug}}/diff/{HUGE}/{HUGE}/",
        f"/api/v1/letters/{{slug}}/versions/{HUGE}/",
    ],
)
def test_a_version_number_past_any_column_is_a_json_404(client, path):
    letter = LetterFactory(status="open")
    response = client.get(path.format(slug=letter.slug))
    assert (response.status_code, response.json()) == (404, NOT_FOUND)


@pytest.mark.parametrize("path", [f"/letters/{{slug}}/diff/1/{HUGE}/", f"/letters/{{slug}}/v/{HUGE}/"])
def test_a_version_page_past_any_column_is_a_404_page(client, path):
    letter = LetterFactory(status="open")
    assert client.get(path.format(slug=letter.slug)).status_code == 404


def test_a_member_id_past_any_column_is_a_404(organizer):
    from organizing.authoring import letter_create_with_owner

    OrganizationFactory(name="HackerOne", slug="hackerone")
    letter_create_with_owner(user=organizer, slug="draft-letter", title="A draft", body="Text.", sponsor_slugs=[])
    response = api_for(organizer).delete(f"/api/v1/manage/letters/draft-letter/members/{HUGE}/")
    assert (response.status_code, response.json()) == (404, NOT_FOUND)
    assert Membership.objects.count() == 1


def test_the_schema_states_the_page_size_bounds(client):
    schema = client.get("/api/v1/schema/?format=json").json()
    parameters = schema["paths"]["/api/v1/letters/{slug}/signatures/"]["get"]["parameters"]
    page_size = next(p for p in parameters if p["name"] == "page_size")
    assert page_size["schema"] == {"type": "integer", "minimum": 1, "maximum": 500}
    staff = schema["paths"]["/api/v1/duplicates/"]["get"]["parameters"]
    bounds = {p["name"]: p["schema"] for p in staff if p["name"] in ("page", "page_size")}
    assert bounds == {
        "page": {"type": "integer", "minimum": 1},
        "page_size": {"type": "integer", "minimum": 1, "maximum": 200},
    }
    versions = schema["paths"]["/api/v1/letters/{slug}/diff/{old}/{new}/"]["get"]["parameters"]
    numbers = [p["schema"] for p in versions if p["in"] == "path" and p["name"] in ("old", "new")]
    assert numbers == [{"type": "integer", "minimum": 0, "maximum": 10**18 - 1}] * 2
