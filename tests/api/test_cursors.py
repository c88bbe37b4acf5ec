"""Cursors are the paginator's own output: one that does not decode to a position of the ordering's type (bad
base64, garbage where a time or an id belongs, NUL) is a 400 naming `cursor` on every paginated endpoint, while
the cursors the API hands out still page through every ordering."""

from base64 import b64encode
from datetime import UTC, datetime, timedelta
from urllib.parse import quote, urlencode

import pytest
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from api.pagination import SignatureCursorPagination
from letters.models import Signature, SignatureEvent
from letters.services.signing import signature_confirm, signature_create
from tests.factories import OrganizationFactory

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
INVALID = {"detail": "Invalid input.", "errors": {"cursor": ["Invalid cursor."]}}


def cursor(**tokens: str) -> str:
    return quote(b64encode(urlencode(tokens).encode()).decode())


@pytest.fixture
def organization(db):
    return OrganizationFactory(slug="apple", name="Apple", status="reviewed")


@pytest.fixture
def signed_letter(open_letter, organization):
    """Seven public signers confirmed a minute apart, two of them at the same instant (ties break by id)."""
    names = ["Grace Hopper", "ada lovelace", "Édouard Lucas", "Barbara Liskov", "Alan Turing", "Zoë Ångström", "Ken"]
    for n, name in enumerate(names):
        result = signature_create(
            letter=open_letter, name=name, email=f"s{n}@example.org", send_email=False, check_rate_limits=False,
            at=T0,
        )  # fmt: skip
        signature_confirm(signature=result.signature, at=T0 + timedelta(minutes=min(n, 5)))
    Signature.objects.update(organization=organization)
    return open_letter


def endpoints(letter) -> dict[str, str]:
    base = f"/api/v1/letters/{letter.slug}"
    return {
        "signatures": f"{base}/signatures/?",
        "signatures by name": f"{base}/signatures/?ordering=name&",
        "signatures as of": f"{base}/signatures/?as_of=2026-03-02T00:00:00Z&",
        "changes": f"{base}/changes/?",
        "organization signatures": "/api/v1/organizations/apple/signatures/?",
    }


ENDPOINTS = ["signatures", "signatures by name", "signatures as of", "changes", "organization signatures"]


ANY_ORDERING = [
    cursor(p="\x00"),
    cursor(p="2026-03-01 09:00:00+00:00\x00"),
    cursor(o="-1"),
    cursor(r="x"),
    "not base64 at all!",
    "%FF%FE",
    quote(b64encode(b"\xff\xfe").decode()),
]


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize("value", ANY_ORDERING)
def test_a_crafted_cursor_is_a_400_naming_the_cursor(client, signed_letter, endpoint, value):
    client.raise_request_exception = False
    response = client.get(f"{endpoints(signed_letter)[endpoint]}cursor={value}")
    assert (response.status_code, response.json()) == (400, INVALID)


@pytest.mark.parametrize("endpoint", [e for e in ENDPOINTS if e != "signatures by name"])
@pytest.mark.parametrize("value", ["cD1nYXJiYWdl", cursor(p="2026-13-45 25:00:00+00:00"), cursor(p="1e9")])
def test_garbage_where_a_time_belongs_is_a_400(client, signed_letter, endpoint, value):
    client.raise_request_exception = False  # "cD1nYXJiYWdl" is p=garbage: a 500 before
    response = client.get(f"{endpoints(signed_letter)[endpoint]}cursor={value}")
    assert (response.status_code, response.json()) == (400, INVALID)


def test_any_text_is_a_position_in_name_order(client, signed_letter):
    response = client.get(f"/api/v1/letters/{signed_letter.slug}/signatures/?ordering=name&cursor=cD1nYXJiYWdl")
    names = {row["name"] for row in response.json()["results"]}
    assert response.status_code == 200
    assert {"Grace Hopper", "Ken"} <= names and not names & {"ada lovelace", "Alan Turing", "Barbara Liskov"}


def test_a_nul_in_a_name_cursor_is_a_400(client, signed_letter):
    response = client.get(f"/api/v1/letters/{signed_letter.slug}/signatures/?cursor=cD0lMDA=&ordering=name")
    assert (response.status_code, response.json()) == (400, INVALID)


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_the_cursors_handed_out_page_through_every_ordering(client, signed_letter, endpoint):
    path = endpoints(signed_letter)[endpoint]
    everything = client.get(f"{path}page_size=100").json()["results"]
    assert len(everything) == 7
    rows, next_url, pages = [], f"{path}page_size=2", 0
    while next_url:
        page = client.get(next_url)
        assert page.status_code == 200, page.content
        rows += page.json()["results"]
        next_url, pages = page.json()["next"], pages + 1
    assert (rows, pages) == (everything, 4)
    previous = client.get(client.get(f"{path}page_size=2").json()["next"]).json()["previous"]
    assert client.get(previous).json()["results"] == everything[:2]


def test_the_name_cursor_keeps_non_ascii_names(client, signed_letter):
    path = f"/api/v1/letters/{signed_letter.slug}/signatures/?ordering=name&page_size=1"
    names, next_url = [], path
    while next_url:
        page = client.get(next_url).json()
        names += [row["name"] for row in page["results"]]
        next_url = page["next"]
    assert sorted(names) == sorted(
        ["Grace Hopper", "ada lovelace", "Édouard Lucas", "Barbara Liskov", "Alan Turing", "Zoë Ångström", "Ken"]
    )


def paginate(queryset, value: str):
    request = Request(APIRequestFactory().get("/", {"cursor": value}))
    return SignatureCursorPagination().paginate_queryset(queryset, request)


@pytest.mark.parametrize("position", ["abc", "1.5", "9" * 30, "-" + "9" * 30, "1\x00"])
def test_an_id_position_must_be_an_integer_in_the_column_range(signed_letter, position):
    with pytest.raises(ValidationError) as caught:
        paginate(Signature.objects.order_by("id"), b64encode(urlencode({"p": position}).encode()).decode())
    assert caught.value.detail == {"cursor": ["Invalid cursor."]}


def test_a_valid_id_or_time_position_is_accepted(signed_letter):
    first = Signature.objects.order_by("id").first()
    by_id = paginate(Signature.objects.order_by("id"), b64encode(f"p={first.pk}".encode()).decode())
    assert len(by_id) == 6
    moment = quote(str(T0 + timedelta(minutes=4)))
    by_time = paginate(SignatureEvent.objects.order_by("at", "id"), b64encode(f"p={moment}".encode()).decode())
    assert by_time is not None


def test_staff_page_numbers_and_sizes_are_checked(staff_client):
    staff_client.raise_request_exception = False
    bad_page = {"detail": "Invalid input.", "errors": {"page": ["Must be a whole number from 1."]}}
    for page in ("abc", "%00", "0", "-1", "0" * 30):
        response = staff_client.get(f"/api/v1/duplicates/?page={page}")
        assert (response.status_code, response.json()) == (400, bad_page)
    for page in ("2", "9" * 30, "9" * 5000):  # whole numbers past the last page: that page does not exist
        response = staff_client.get(f"/api/v1/duplicates/?page={page}")
        assert (response.status_code, response.json()) == (404, {"detail": "Invalid page.", "errors": {}})
    size = staff_client.get("/api/v1/duplicates/?page_size=201")
    assert size.json()["errors"] == {"page_size": ["Must be a whole number from 1 to 200."]}
    assert staff_client.get("/api/v1/duplicates/?page=1&page_size=200").status_code == 200
    assert staff_client.get(f"/api/v1/duplicates/?page={'0' * 20}1").status_code == 200  # page 1, zero-padded
    assert staff_client.get("/api/v1/duplicates/?page=last").status_code == 200
