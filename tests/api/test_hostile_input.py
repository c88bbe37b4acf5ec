"""Hostile request bodies and path parameters are 4xx answers in the error shape, never 500s, and store nothing."""

import json

import pytest
from rest_framework.test import APIClient

from letters.models import Signature
from registry.models import DuplicateCandidate
from tests.factories import OrganizationFactory

pytestmark = pytest.mark.django_db

DEEP = "[" * 100_000 + "]" * 100_000
SIGNER = {"name": "Ada Lovelace", "email": "ada@example.org"}
NOT_FOUND = {"detail": "Not found.", "errors": {}}


def body_error(message: str) -> dict:
    return {"detail": "Invalid input.", "errors": {"body": [f"JSON parse error - {message}"]}}


def sign_url(letter) -> str:
    return f"/api/v1/letters/{letter.slug}/signatures/"


@pytest.fixture
def client(client):
    client.raise_request_exception = False  # a 500 must show as the answer, not as a test error
    return client


def post_json(client, path: str, body: str, **headers):
    return client.post(path, body, content_type="application/json", headers=headers)


@pytest.mark.parametrize("path", ["sign", "/api/v1/signatures/confirm/", "/api/v1/signatures/withdraw/"])
def test_deeply_nested_json_is_a_400_with_the_error_shape(client, open_letter, path):
    response = post_json(client, sign_url(open_letter) if path == "sign" else path, DEEP)
    assert (response.status_code, response.json()) == (400, body_error("nested more than 20 levels deep."))
    assert Signature.objects.count() == 0


def test_nesting_below_the_recursion_limit_but_over_the_depth_limit_is_refused(client, open_letter):
    body = json.dumps({**SIGNER, "extra": json.loads("[" * 21 + "]" * 21)})
    response = post_json(client, sign_url(open_letter), body)
    assert (response.status_code, response.json()) == (400, body_error("nested more than 20 levels deep."))
    assert Signature.objects.count() == 0


def test_a_normal_signature_body_is_still_accepted(client, open_letter):
    body = json.dumps({**SIGNER, "name": "Zoë Ångström", "comment": "[{}] are fine in text"})
    response = post_json(client, sign_url(open_letter), body)
    assert response.status_code == 202
    assert Signature.objects.get().name == "Zoë Ångström"


@pytest.mark.parametrize(
    "body",
    [
        '{"name": "Ada \\ud800", "email": "ada@example.org"}',
        '{"name": "Ada", "email": "ada@example.org", "\\udfff": 1}',
    ],
)
def test_a_lone_surrogate_is_a_400_not_a_database_error(client, open_letter, body):
    response = post_json(client, sign_url(open_letter), body)
    expected = body_error("strings must be valid Unicode (no lone surrogates).")
    assert (response.status_code, response.json()) == (400, expected)
    assert Signature.objects.count() == 0


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("{", "Expecting property name enclosed in double quotes: line 1 column 2 (char 1)"),
        ('{"name": NaN}', "Out of range float values are not JSON compliant: 'NaN'"),
        ('{"n": ' + "9" * 5000 + "}", "Exceeds the limit (4300 digits) for integer string conversion: value has"),
    ],
)
def test_malformed_json_names_the_body(client, open_letter, body, message):
    response = post_json(client, sign_url(open_letter), body)
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert list(errors) == ["body"] and errors["body"][0].startswith(f"JSON parse error - {message}")
    assert Signature.objects.count() == 0


def test_a_body_over_the_limit_is_a_413_with_the_error_shape(client, open_letter, settings):
    assert settings.DATA_UPLOAD_MAX_MEMORY_SIZE == 256 * 1024
    body = json.dumps({**SIGNER, "comment": "x" * 20_000_000})
    response = post_json(client, sign_url(open_letter), body)
    assert (response.status_code, response["Content-Type"]) == (413, "application/json")
    assert response.json() == {"detail": "Request body too large.", "errors": {"body": ["At most 262144 bytes."]}}
    assert Signature.objects.count() == 0


@pytest.mark.parametrize(
    "content_type", ["multipart/form-data; boundary=BoUnDaRy", "application/x-www-form-urlencoded", "text/plain"]
)
def test_the_api_accepts_only_json_bodies(client, open_letter, content_type):
    response = client.post(sign_url(open_letter), "name=Ada&email=ada%40example.org", content_type=content_type)
    assert response.status_code == 415
    assert response.json() == {"detail": f'Unsupported media type "{content_type}" in request.', "errors": {}}
    assert Signature.objects.count() == 0


def test_an_idempotency_key_with_a_nul_is_a_field_error(client, open_letter):
    response = post_json(client, sign_url(open_letter), json.dumps(SIGNER), **{"Idempotency-Key": "a\x00b"})
    assert response.status_code == 400
    assert response.json()["errors"] == {"Idempotency-Key": ["Printable characters only."]}
    assert Signature.objects.count() == 0


@pytest.mark.parametrize("key", ["", "   "])
def test_an_empty_idempotency_key_is_a_field_error(client, open_letter, key):
    response = post_json(client, sign_url(open_letter), json.dumps(SIGNER), **{"Idempotency-Key": key})
    assert (response.status_code, response.json()) == (
        400,
        {"detail": "Invalid input.", "errors": {"Idempotency-Key": ["Empty; send a unique key, or no header."]}},
    )
    assert Signature.objects.count() == 0


def test_nul_characters_in_json_strings_are_field_errors(client, open_letter):
    body = json.dumps({**SIGNER, "email": "ada@exa\x00mple.org", "comment": "\x00"})
    response = post_json(client, sign_url(open_letter), body)
    nul = ["Null characters are not allowed."]
    assert response.json() == {"detail": "Invalid input.", "errors": {"email": nul, "comment": nul}}
    assert Signature.objects.count() == 0


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/people/%00/",
        "/api/v1/people/a%00b/",
        "/api/v1/people/" + "a" * 25 + "/",
        "/api/v1/people/%C3%A9%E2%80%AE/",
        "/api/v1/organizations/%00/",
        "/api/v1/organizations/%00/signatures/",
        "/api/v1/letters/%00/",
        "/api/v1/letters/%00/signatures/",
        "/api/v1/letters/%00/export.csv",
    ],
)
def test_a_path_parameter_with_nul_or_garbage_is_a_json_404(client, path):
    response = client.get(path)
    assert (response.status_code, response["Content-Type"], response.json()) == (404, "application/json", NOT_FOUND)


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/signatures/%00/verify",
        "/api/v1/signatures/x%00/reject",
        "/api/v1/duplicates/%00/merge",
    ],
)
def test_a_staff_path_with_nul_is_a_json_404(staff_client, path):
    staff_client.raise_request_exception = False
    response = staff_client.post(path, "{}", content_type="application/json")
    assert (response.status_code, response.json()) == (404, NOT_FOUND)


@pytest.mark.parametrize("action", ["merge", "dismiss"])
def test_a_duplicate_id_beyond_the_column_range_is_a_404(staff_user, action):
    from tests.organizing.conftest import with_second_factor

    api = APIClient()
    api.force_authenticate(with_second_factor(staff_user))
    response = api.post(f"/api/v1/duplicates/{'9' * 30}/{action}")
    assert response.status_code == 404
    assert response.json() == NOT_FOUND
    assert DuplicateCandidate.objects.count() == 0


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/api/v1/letters/{slug}/signatures/?q=%00", "q"),
        ("/api/v1/letters/{slug}/signatures/?organization=%00", "organization"),
        ("/api/v1/organizations/?q=a%00", "q"),
    ],
)
def test_a_query_parameter_with_nul_is_a_field_error(client, open_letter, path, field):
    response = client.get(path.format(slug=open_letter.slug))
    assert response.status_code == 400
    assert list(response.json()["errors"]) == [field]


def test_the_schema_advertises_json_request_bodies_only_but_for_the_spreadsheet_upload():
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    bodies = {
        (method, path): list(operation["requestBody"]["content"])
        for path, operations in schema["paths"].items()
        for method, operation in operations.items()
        if "requestBody" in operation
    }
    assert bodies[("post", "/api/v1/letters/{slug}/signatures/")] == ["application/json"]
    assert len(bodies) >= 5
    # The one exception: an organizer's spreadsheet upload (a file), multipart only.
    assert {path: types for path, types in bodies.items() if types != ["application/json"]} == {
        ("post", "/api/v1/manage/letters/{slug}/imports/"): ["multipart/form-data"]
    }
    sign = schema["paths"]["/api/v1/letters/{slug}/signatures/"]["post"]["requestBody"]["content"]
    assert sign["application/json"]["schema"] == {"$ref": "#/components/schemas/SignInputRequest"}


def test_the_schema_states_the_public_id_pattern():
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    (parameter,) = schema["paths"]["/api/v1/people/{public_id}/"]["get"]["parameters"]
    assert parameter["schema"] == {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,24}$"}


def test_organization_slugs_with_garbage_never_reach_the_database(client, django_assert_num_queries):
    OrganizationFactory(slug="apple", status="reviewed")
    with django_assert_num_queries(0):
        response = client.get("/api/v1/organizations/app%00le/")
    assert response.status_code == 404


@pytest.mark.parametrize("path", ["/api/v1/letters/{slug}/signatures/", "/api/v1/organizations/"])
def test_too_many_query_parameters_are_a_json_400(client, open_letter, settings, path):
    assert settings.DATA_UPLOAD_MAX_NUMBER_FIELDS == 500
    query = "&".join(f"x{n}=1" for n in range(501))
    response = client.get(f"{path.format(slug=open_letter.slug)}?{query}")
    assert (response.status_code, response.json()) == (400, {"detail": "Bad request.", "errors": {}})
