"""Shared public answers: with a shared cache in another process (Redis), each process keeps near copies that never
outlive the shared entry, so a hot read skips the round trip and no answer gets older than the shared bound."""

import re
from datetime import UTC, datetime

import pytest
from django.core.cache import cache

from config import response_cache as caching
from config.response_cache import NearCopies
from letters.services.signing import signature_confirm, signature_create

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def test_a_near_copy_expires_with_its_shared_entry():
    copies = NearCopies(size=4)
    copies.put("a", 100.0, b"answer")
    assert copies.get("a", 99.9) == b"answer"
    assert copies.get("a", 100.0) is None
    assert copies.get("a", 50.0) is None  # gone once expired, even for an earlier clock


def test_near_copies_keep_the_most_recently_used_within_their_size():
    copies = NearCopies(size=2)
    copies.put("a", 100.0, b"1")
    copies.put("b", 100.0, b"2")
    assert copies.get("a", 0.0) == b"1"
    copies.put("c", 100.0, b"3")
    assert [copies.get(key, 0.0) for key in "abc"] == [b"1", None, b"3"]


def test_near_copies_keep_within_their_byte_budget_and_skip_big_answers():
    copies = NearCopies(size=10, budget=10, largest=6)
    copies.put("big", 100.0, b"x" * 7)
    copies.put("a", 100.0, b"aaaa")
    copies.put("b", 100.0, b"bbbb")
    copies.put("c", 100.0, b"cccc")  # 12 bytes would exceed 10: the least recently used goes
    assert [copies.get(key, 0.0) for key in ("big", "a", "b", "c")] == [None, None, b"bbbb", b"cccc"]
    copies.put("b", 100.0, b"b")  # replacing an answer frees its old bytes
    copies.put("d", 100.0, b"dddd")
    assert [copies.get(key, 0.0) for key in ("b", "c", "d")] == [b"b", b"cccc", b"dddd"]


@pytest.mark.django_db
def test_answers_to_signed_in_readers_and_browsable_pages_are_never_shared(client, open_letter, staff_user, settings):
    settings.PUBLIC_RESPONSE_CACHE_SECONDS = 30
    page = f"/api/v1/letters/{open_letter.slug}/signatures/"

    def shared() -> int:
        return len([key for key in cache._cache if "public-response" in key])

    def carries_csrf_token(response) -> bool:
        # The API takes JSON only, so the browsable page has no HTML form: its token is in the page's script.
        return re.search(r'"csrfToken": "[A-Za-z0-9]{32,}"', response.content.decode()) is not None

    client.force_login(staff_user)
    assert carries_csrf_token(client.get(page, HTTP_ACCEPT="text/html"))
    assert client.get(page).status_code == 200  # JSON, but with a session
    assert client.get(page, HTTP_AUTHORIZATION="Token abc").status_code in (200, 401)
    client.logout()
    assert carries_csrf_token(client.get(page, HTTP_ACCEPT="text/html"))
    assert shared() == 0
    client.get(page)
    assert shared() == 1


def _stats(client, letter):
    return client.get(f"/api/v1/letters/{letter.slug}/stats/")


def _names(client, letter):
    return [row["name"] for row in client.get(f"/api/v1/letters/{letter.slug}/signatures/").json()["results"]]


@pytest.mark.django_db
def test_hot_reads_skip_the_shared_cache_until_its_entry_expires(client, open_letter, redis_cache, clock, monkeypatch):
    reads = []
    shared_get = redis_cache.get
    monkeypatch.setattr(redis_cache, "get", lambda key, *a, **k: reads.append(key) or shared_get(key, *a, **k))
    assert _names(client, open_letter) == []
    calls_after_first = len(reads)
    signature = signature_create(
        letter=open_letter, name="Ada", email="ada@example.org", send_email=False, check_rate_limits=False, at=T0
    ).signature
    signature_confirm(signature=signature, at=T0)

    clock[0] += 1.9
    assert (_names(client, open_letter), len(reads)) == ([], calls_after_first)  # near copy, no round trip

    clock[0] += 0.1  # the shared entry's expiry: the copy goes with it and the answer is computed again
    assert _names(client, open_letter) == ["Ada"]


@pytest.mark.django_db
def test_a_process_without_a_copy_takes_the_shared_answer_and_keeps_its_expiry(client, open_letter, redis_cache, clock):
    first = _stats(client, open_letter)
    caching.near_copies.clear()  # as in another process
    clock[0] += 1.0
    assert _stats(client, open_letter).content == first.content
    [(expires_at, _payload)] = caching.near_copies._items.values()
    assert expires_at == 1_800_000_000.0 + 2


@pytest.mark.django_db
def test_no_near_copies_when_the_shared_cache_is_this_process(client, open_letter, settings):
    settings.PUBLIC_RESPONSE_CACHE_SECONDS = 2
    first = _stats(client, open_letter)
    assert _stats(client, open_letter).content == first.content
    assert not caching.near_copies._items
