"""Public pages under a burst: anonymous readers of the letter page share one rendering for
PUBLIC_RESPONSE_CACHE_SECONDS (config.response_cache); signed-in readers, and answers that are not the same for
everyone, are always computed."""

from datetime import UTC, datetime

import pytest
from django.http import HttpResponse
from django.test import RequestFactory

from config import response_cache
from letters.services.signing import signature_confirm, signature_create
from tests.factories import UserFactory

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def _signed(letter, name: str, email: str) -> None:
    result = signature_create(letter=letter, name=name, email=email, send_email=False, check_rate_limits=False, at=T0)
    signature_confirm(signature=result.signature, at=T0)


def _names_on_page(client, letter, **extra) -> list[str]:
    response = client.get(f"/letters/{letter.slug}/", **extra)
    assert response.status_code == 200
    html = response.content.decode()
    return [name for name in ("Ada Lovelace", "Grace Hopper") if name in html]


@pytest.mark.django_db
def test_anonymous_readers_share_one_rendering_of_the_letter_page_until_it_expires(
    client, open_letter, clock, django_assert_num_queries
):
    _signed(open_letter, "Ada Lovelace", "ada@example.org")
    assert _names_on_page(client, open_letter) == ["Ada Lovelace"]
    _signed(open_letter, "Grace Hopper", "grace@example.org")
    clock[0] += 1.9
    with django_assert_num_queries(0):  # the shared answer: nothing is read or rendered again
        assert _names_on_page(client, open_letter) == ["Ada Lovelace"]
    clock[0] += 0.1
    assert _names_on_page(client, open_letter) == ["Ada Lovelace", "Grace Hopper"]


@pytest.mark.django_db
def test_shared_letter_pages_keep_their_cache_headers_and_differ_by_query(client, open_letter, clock):
    _signed(open_letter, "Ada Lovelace", "ada@example.org")
    first = client.get(f"/letters/{open_letter.slug}/")
    again = client.get(f"/letters/{open_letter.slug}/")
    assert again.content == first.content
    assert again["Cache-Control"] == first["Cache-Control"] == "public, max-age=5, stale-while-revalidate=30"
    assert "Ada Lovelace" not in client.get(f"/letters/{open_letter.slug}/?q=Hopper").content.decode()


@pytest.mark.django_db
def test_a_signed_in_reader_always_gets_a_fresh_page(client, open_letter, clock):
    assert _names_on_page(client, open_letter) == []
    client.force_login(UserFactory())
    _signed(open_letter, "Ada Lovelace", "ada@example.org")
    assert _names_on_page(client, open_letter) == ["Ada Lovelace"]


@pytest.mark.django_db
def test_a_page_that_is_not_yet_public_is_never_shared(client, clock):
    from tests.factories import LetterFactory

    letter = LetterFactory(slug="embargoed", status="scheduled")
    assert client.get("/letters/embargoed/").status_code == 404
    letter.status = "open"
    letter.save(update_fields=["status"])
    assert client.get("/letters/embargoed/").status_code == 200


@pytest.mark.parametrize(
    "spoil",
    [
        lambda request, response: response.set_cookie("csrftoken", "x"),
        lambda request, response: response.__setitem__("Vary", "Accept, Cookie"),
        lambda request, response: request.META.__setitem__("CSRF_COOKIE_NEEDS_UPDATE", True),
        lambda request, response: setattr(response, "status_code", 202),
    ],
    ids=["sets a cookie", "varies on Cookie", "rendered a CSRF token", "not a 200"],
)
def test_answers_that_are_not_the_same_for_everyone_are_not_kept(settings, spoil):
    settings.PUBLIC_RESPONSE_CACHE_SECONDS = 2
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "spoil"}}
    computed = []

    def compute(request):
        response = HttpResponse(f"answer {len(computed)}")
        computed.append(1)
        spoil(request, response)
        return response

    for _ in range(2):
        request = RequestFactory().get("/letters/x/")
        response_cache.shared_answer(request, lambda request=request: compute(request))
    assert len(computed) == 2
