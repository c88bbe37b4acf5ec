"""The API answers what its OpenAPI schema says (what schema-driven fuzzers check): blank or out-of-range
parameters are field errors, unknown paths answer in the API's error shape, nullable fields are declared so."""

import pytest

from tests.factories import OrganizationFactory

pytestmark = pytest.mark.django_db
BLANK = ["This field may not be blank."]


def errors(response) -> dict:
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["detail"] == "Invalid input."
    return body["errors"]


@pytest.mark.parametrize(
    ("tail", "param"),
    [
        ("stats/", "as_of"),
        ("signatures/", "as_of"),
        ("signatures/", "signed_before"),
        ("signatures/", "q"),
        ("timeline/", "bucket"),
        ("changes/", "until"),
        ("export.csv", "as_of"),
        ("export.json", "as_of"),
    ],
)
def test_a_blank_query_parameter_is_a_field_error_not_an_absent_one(client, open_letter, tail, param):
    response = client.get(f"/api/v1/letters/{open_letter.slug}/{tail}?{param}=")
    assert errors(response) == {param: BLANK}


def test_organization_search_rejects_a_blank_query(client):
    assert errors(client.get("/api/v1/organizations/?q=")) == {"q": BLANK}


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("null", "A valid integer is required."),
        ("9414", "Ensure this value is less than or equal to 500."),
        ("0", "Ensure this value is greater than or equal to 1."),
    ],
)
def test_organization_signatures_validate_their_page_size(client, value, message):
    org = OrganizationFactory(slug="apple", status="reviewed")
    response = client.get(f"/api/v1/organizations/{org.slug}/signatures/?page_size={value}")
    assert errors(response) == {"page_size": [message]}


def test_the_paginator_itself_refuses_a_page_size_out_of_range():
    from rest_framework.exceptions import ValidationError
    from rest_framework.request import Request
    from rest_framework.test import APIRequestFactory

    from api.pagination import SignatureCursorPagination

    paginator = SignatureCursorPagination()
    assert paginator.get_page_size(Request(APIRequestFactory().get("/", {"page_size": "250"}))) == 250
    assert paginator.get_page_size(Request(APIRequestFactory().get("/"))) == 100
    for bad in ("501", "x", "-1", "99999999999"):
        with pytest.raises(ValidationError) as caught:
            paginator.get_page_size(Request(APIRequestFactory().get("/", {"page_size": bad})))
        assert caught.value.detail == {"page_size": ["Must be a whole number from 1 to 500."]}


@pytest.mark.parametrize(
    "path",
    ["/api/v1/organizations/%1BS%C2%94/", "/api/v1/letters/%C3%8A%C3%95M/stats/", "/api/v1/nothing-here/"],
)
@pytest.mark.parametrize("debug", [True, False])
def test_an_unknown_api_path_is_a_json_404_in_development_too(client, settings, path, debug):
    settings.DEBUG = debug
    response = client.get(path)
    assert (response.status_code, response["Content-Type"]) == (404, "application/json")
    assert response.json() == {"detail": "Not found.", "errors": {}}


def test_a_post_to_an_unknown_api_path_is_a_json_404(client):
    response = client.post("/api/v1/duplicates/null,null/merge")
    assert (response.status_code, response.json()) == (404, {"detail": "Not found.", "errors": {}})


def test_a_missing_trailing_slash_is_still_redirected(client):
    response = client.get("/api/v1/letters")
    assert (response.status_code, response["Location"]) == (301, "/api/v1/letters/")


def test_the_schema_declares_nullable_times_and_the_as_of_only_field():
    from drf_spectacular.generators import SchemaGenerator

    schemas = SchemaGenerator().get_schema(request=None, public=True)["components"]["schemas"]
    letter = schemas["Letter"]["properties"]
    assert letter["closed_at"].get("nullable") is True and letter["opened_at"].get("nullable") is True
    assert "removed_later" not in schemas["AsOfSignature"]["required"]
    assert "letter" in schemas["OrganizationSignature"]["required"]


def test_every_public_read_documents_the_throttle_answer():
    from drf_spectacular.generators import SchemaGenerator

    paths = SchemaGenerator().get_schema(request=None, public=True)["paths"]
    # Staff (duplicates, the held queue) and organizer (/api/v1/manage/) reads need a signed-in user, whom the
    # anonymous throttle never counts (permissions are checked before throttles).
    signed_in_only = ("duplicates", "/api/v1/signatures/held/", "/api/v1/manage/")
    reads = {
        path: ops["get"]
        for path, ops in paths.items()
        if "get" in ops and not any(part in path for part in signed_in_only)
    }
    assert len(reads) >= 12
    assert [path for path, op in reads.items() if "429" not in op["responses"]] == []


def test_the_sign_body_is_advertised_as_json_only_with_the_rules_limits_and_email_format():
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    body = schema["paths"]["/api/v1/letters/{slug}/signatures/"]["post"]["requestBody"]["content"]
    assert list(body) == ["application/json"]
    name = body["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    fields = schema["components"]["schemas"][name]["properties"]
    assert fields["email"] == {"type": "string", "format": "email", "maxLength": 254, "minLength": 1}
    assert (fields["name"]["maxLength"], fields["title"]["maxLength"], fields["organization"]["maxLength"]) == (
        200,
        200,
        200,
    )
    assert fields["comment"]["maxLength"] == 2000


@pytest.mark.parametrize(
    ("field", "value", "error"),
    [
        ("name", "A" * 201, "Ensure this field has no more than 200 characters."),
        ("name", "A" * 10_000, "Ensure this field has no more than 200 characters."),  # past the size guard too
        ("comment", "A" * 10_000, "Ensure this field has no more than 2000 characters."),
        ("email", "a" * 600 + "@example.org", "Ensure this field has no more than 254 characters."),
    ],
)
def test_a_field_over_the_advertised_length_is_a_field_error_naming_that_length(
    client, open_letter, field, value, error
):
    response = client.post(
        f"/api/v1/letters/{open_letter.slug}/signatures/",
        {"name": "Ada Lovelace", "email": "ada@example.org", field: value},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert response.json() == {"detail": "Invalid input.", "errors": {field: [error]}}


def test_a_decomposed_name_longer_than_the_limit_before_normalization_is_accepted(client, open_letter):
    """Apple keyboards send "é" as e + a combining accent: 240 code points that normalize to 121 are a valid name."""
    import unicodedata

    name = unicodedata.normalize("NFD", "é" * 119 + " L")
    response = client.post(
        f"/api/v1/letters/{open_letter.slug}/signatures/",
        {"name": name, "email": "ada@example.org"},
        content_type="application/json",
    )
    assert (len(name), response.status_code) == (240, 202)


@pytest.mark.parametrize("path", ["stats/", "signatures/", "export.csv", "export.json"])
def test_an_as_of_in_the_future_is_a_field_error(client, open_letter, path):
    response = client.get(f"/api/v1/letters/{open_letter.slug}/{path}", {"as_of": "2099-01-01T00:00:00Z"})
    assert response.status_code == 400
    assert response.json() == {
        "detail": "Invalid input.",
        "errors": {"as_of": ["An instant in the future: the list and the count are known up to now."]},
    }
