"""as_of answers are cached long only once the history up to the instant has settled; recent and slightly future
instants are answered like reads of now, and instants further ahead than AS_OF_SKEW are refused."""

from datetime import timedelta

import pytest
from django.utils import timezone

from api.caching import AS_OF_CACHE_CONTROL, PUBLIC_CACHE_CONTROL
from letters.history import AS_OF_SETTLE, AS_OF_SKEW, as_of_problem, as_of_settled
from letters.selectors import STATS_CACHE_NOW, STATS_CACHE_PAST, letter_stats

pytestmark = pytest.mark.django_db

PATHS = ["stats/", "signatures/"]


def test_the_settle_window_and_the_skew():
    now = timezone.now()
    assert (timedelta(seconds=5), timedelta(seconds=10)) == (AS_OF_SKEW, AS_OF_SETTLE)
    assert as_of_settled(now - timedelta(seconds=10), now=now)
    assert not as_of_settled(now - timedelta(seconds=9, milliseconds=999), now=now)
    assert as_of_problem(now + timedelta(seconds=5), now=now) == ""
    assert as_of_problem(now + timedelta(seconds=5, milliseconds=1), now=now) != ""


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize(
    ("offset", "cache_control"),
    [
        (timedelta(hours=-1), AS_OF_CACHE_CONTROL),
        (timedelta(seconds=-12), AS_OF_CACHE_CONTROL),
        (timedelta(seconds=-7), PUBLIC_CACHE_CONTROL),  # inside the settle window: can still change
        (timedelta(seconds=-1), PUBLIC_CACHE_CONTROL),
        (timedelta(seconds=3), PUBLIC_CACHE_CONTROL),  # a clock a little ahead: answered, never kept long
    ],
)
def test_cache_control_of_an_as_of_read(client, open_letter, path, offset, cache_control):
    as_of = (timezone.now() + offset).isoformat()
    response = client.get(f"/api/v1/letters/{open_letter.slug}/{path}", {"as_of": as_of})
    assert response.status_code == 200
    assert response["Cache-Control"] == cache_control


@pytest.mark.parametrize("path", PATHS)
def test_a_read_of_now_has_the_short_cache(client, open_letter, path):
    response = client.get(f"/api/v1/letters/{open_letter.slug}/{path}")
    assert response["Cache-Control"] == PUBLIC_CACHE_CONTROL == "public, max-age=5, stale-while-revalidate=30"


@pytest.mark.parametrize("path", [*PATHS, "export.csv"])
def test_an_as_of_further_ahead_than_the_skew_is_a_field_error(client, open_letter, path):
    as_of = (timezone.now() + timedelta(seconds=15)).isoformat()
    response = client.get(f"/api/v1/letters/{open_letter.slug}/{path}", {"as_of": as_of})
    assert response.status_code == 400
    assert response.json()["errors"] == {
        "as_of": ["An instant in the future: the list and the count are known up to now."]
    }


def test_the_stats_of_an_unsettled_as_of_are_kept_only_as_long_as_those_of_now(open_letter, monkeypatch):
    kept = []

    class Recorder:
        def get(self, key):
            return None

        def set(self, key, value, timeout):
            kept.append(timeout)

    monkeypatch.setattr("letters.selectors.cache", Recorder())
    now = timezone.now()
    for offset in (timedelta(hours=-1), timedelta(seconds=-2), timedelta(seconds=3)):
        letter_stats(letter=open_letter, as_of=now + offset)
    letter_stats(letter=open_letter)
    assert kept == [STATS_CACHE_PAST, STATS_CACHE_NOW, STATS_CACHE_NOW, STATS_CACHE_NOW]
