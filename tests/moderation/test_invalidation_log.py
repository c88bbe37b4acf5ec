"""A bulk invalidation and its undo are entries of the transparency log: criteria hash and counts, never the criteria
(an IP hash, a name pattern) themselves."""

import json

import pytest

from letters.transparency_log import transparency_log_drain
from moderation.log import invalidations_log_batch
from moderation.models import Invalidation
from moderation.services import invalidation_run, invalidation_start, invalidation_undo
from tests.builders import signed
from tests.factories import LetterFactory, UserFactory
from transparency import services as log
from transparency.models import Entry

pytestmark = pytest.mark.django_db


def logged() -> list[dict]:
    return [json.loads(bytes(e.data)) for e in Entry.objects.order_by("index")]


@pytest.fixture
def wave(db):
    letter = LetterFactory(slug="wave")
    for n in range(3):
        signed(letter, name=f"Real {n}", email=f"real{n}@example.org", ip_address=f"198.51.100.{n}")
    for n in range(2):
        signed(letter, name=f"Bot {n}", email=f"bot{n}@spam.example", ip_address=f"203.0.113.{n}")
    return letter


def sweep(letter, moderator) -> Invalidation:
    invalidation = invalidation_start(
        letter=letter, criteria={"ip_prefix": "203.0.113.0/24"}, reason="Bot wave", confirm_large=True, actor=moderator
    )
    invalidation_run(invalidation_id=invalidation.pk)
    return Invalidation.objects.get(pk=invalidation.pk)


def test_a_finished_invalidation_and_its_undo_are_logged_once_each_with_criteria_hash_and_counts(wave):
    moderator = UserFactory()
    invalidation = sweep(wave, moderator)
    transparency_log_drain()
    assert invalidations_log_batch() == 1
    assert invalidations_log_batch() == 0  # nothing twice
    entry = logged()[-1]
    assert entry == {
        "t": "invalidation",
        "letter": "wave",
        "id": invalidation.public_id,
        "criteria": invalidation.criteria_sha256,
        "count": 2,
        "at": invalidation.finished_at.isoformat().replace("+00:00", "Z"),
    }
    assert [e["reason"] for e in logged() if e["t"] == "left"] == ["rejected", "rejected"]
    invalidation.refresh_from_db()
    assert invalidation.logged_index == Entry.objects.count() - 1

    invalidation_undo(invalidation=invalidation, actor=moderator)
    invalidation_run(invalidation_id=invalidation.pk)
    invalidation.refresh_from_db()
    transparency_log_drain()
    assert invalidations_log_batch() == 1
    undone = logged()[-1]
    assert undone == {
        "t": "invalidation_undone",
        "letter": "wave",
        "id": invalidation.public_id,
        "criteria": invalidation.criteria_sha256,
        "count": 2,
        "at": invalidation.undone_at.isoformat().replace("+00:00", "Z"),
    }
    invalidation.refresh_from_db()
    assert invalidation.undo_logged_index == Entry.objects.count() - 1
    raw = b"".join(bytes(e.data) for e in Entry.objects.all())
    assert b"203.0.113" not in raw and b"Bot wave" not in raw


def test_an_invalidation_finished_and_undone_before_logging_gets_both_entries_in_order(wave):
    moderator = UserFactory()
    invalidation = sweep(wave, moderator)
    invalidation_undo(invalidation=invalidation, actor=moderator)
    invalidation_run(invalidation_id=invalidation.pk)
    assert invalidations_log_batch() == 1
    assert [e["t"] for e in logged()] == ["invalidation", "invalidation_undone"]


def test_a_running_invalidation_is_not_logged_until_it_finishes(wave):
    moderator = UserFactory()
    invalidation_start(
        letter=wave, criteria={"ip_prefix": "203.0.113.0/24"}, reason="Bot wave", confirm_large=True, actor=moderator
    )
    assert invalidations_log_batch() == 0
    assert not Entry.objects.exists()


def test_log_sync_runs_the_invalidation_producer_and_the_checkpoint_covers_it(wave, settings):
    sweep(wave, UserFactory())
    checkpoint = log.log_sync()
    assert checkpoint is not None and checkpoint.size == Entry.objects.count()
    assert [e["t"] for e in logged()].count("invalidation") == 1
