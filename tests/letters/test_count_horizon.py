"""The count's label: the folded totals are exactly the as-of replay at `counted_at` (the fold's horizon), events that
commit after a fold passed their `at` included; the stated staleness bound."""

import threading
import time
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from letters.counts import (
    FOLD_MARGIN,
    LATE_RECHECK,
    STALE_AFTER,
    WAIT_FOR_FOLD,
    letter_count_fresh,
    letter_count_rebuild,
    letter_count_refresh,
    letter_counts_as_of,
    letter_counts_reconcile,
)
from letters.models import LetterCount, LetterCountBucket, Signature, SignatureEvent
from letters.selectors import staleness_bound_seconds
from letters.services.events import SignatureState, signature_event_record
from letters.services.signing import signature_withdraw
from tests.builders import signed
from tests.factories import LetterFactory

pytestmark = pytest.mark.django_db

FIELDS = ("public", "verified", "by_level", "withdrawn", "rejected", "name_withheld", "by_organization")


def folded(letter):
    count = LetterCount.objects.get(letter=letter)
    return count.counted_at, {name: getattr(count, name) for name in FIELDS}


def replayed(letter, as_of):
    counts = letter_counts_as_of(letter=letter, as_of=as_of)
    return {name: counts[name] for name in FIELDS}


def buckets(letter):
    return sorted(
        LetterCountBucket.objects.filter(letter=letter).values_list(
            "span", "start", "added", "removed", "withdrawn", "rejected", "name_withheld_delta", "events", "by_level",
            "by_organization",
        )
    )  # fmt: skip


def test_the_count_is_labelled_with_the_folds_horizon_and_is_the_replay_there():
    letter = LetterFactory()
    t0 = timezone.now() - timedelta(minutes=5)
    signed(letter, name="Ada Lovelace", email="ada@example.org", at=t0)
    signed(letter, name="Grace Hopper", email="grace@example.org", at=t0 + timedelta(seconds=10))
    fold = t0 + timedelta(seconds=10, milliseconds=500)  # Grace's events are within the fold's margin
    letter_count_refresh(letter_id=letter.pk, now=fold)
    counted_at, totals = folded(letter)
    assert counted_at == fold - FOLD_MARGIN  # the instant the totals are true at, not the time of folding
    assert totals["public"] == 1
    assert totals == replayed(letter, counted_at)
    assert replayed(letter, fold)["public"] == 2  # labelled with the fold's time, 1 was not true at that label


def test_the_fold_takes_events_by_at_not_by_when_their_row_was_written():
    """The reviewer's "matches no instant": a withdrawal stamped before the horizon, written 0.55 s later."""
    letter = LetterFactory()
    t0 = timezone.now() - timedelta(minutes=5)
    ada = signed(letter, name="Ada Lovelace", email="ada@example.org", at=t0)
    signed(letter, name="Grace Hopper", email="grace@example.org", at=t0)
    fold = t0 + timedelta(seconds=30)
    signature_withdraw(signature=ada, at=fold - FOLD_MARGIN - timedelta(milliseconds=300))
    SignatureEvent.objects.filter(kind="withdrawn").update(recorded_at=fold - FOLD_MARGIN + timedelta(milliseconds=250))
    letter_count_refresh(letter_id=letter.pk, now=fold)
    counted_at, totals = folded(letter)
    assert (totals["public"], totals["withdrawn"]) == (1, 1)
    assert totals == replayed(letter, counted_at)


def test_an_event_whose_at_precedes_the_previous_horizon_but_commits_after_it_is_taken_in_by_the_next_fold():
    letter = LetterFactory()
    # Half a minute into a minute: every instant below falls in the same minute bucket, whatever the clock says.
    t0 = (timezone.now() - timedelta(minutes=5)).replace(second=30, microsecond=0)
    signed(letter, name="Ada Lovelace", email="ada@example.org", at=t0)
    letter_count_refresh(letter_id=letter.pk, now=t0 + timedelta(seconds=20))
    first_horizon, totals = folded(letter)
    assert totals["public"] == 1
    # Grace's transaction stamped its events 3 s before that horizon and committed only after the fold.
    signed(letter, name="Grace Hopper", email="grace@example.org", at=first_horizon - 3 * FOLD_MARGIN)
    assert replayed(letter, first_horizon)["public"] == 2  # the history of that instant gained her
    assert letter_count_refresh(letter_id=letter.pk, now=t0 + timedelta(seconds=22)) == 2  # created, confirmed
    counted_at, totals = folded(letter)
    assert counted_at == t0 + timedelta(seconds=21)
    assert totals["public"] == 2
    assert totals == replayed(letter, counted_at)
    assert replayed(letter, t0 + timedelta(minutes=3))["public"] == 2  # read from the buckets: they took her in
    repaired = buckets(letter)
    assert sum(b[7] for b in repaired if b[0] == "day") == SignatureEvent.objects.filter(letter=letter).count()
    letter_count_rebuild(letter_id=letter.pk, now=t0 + timedelta(seconds=22))
    assert folded(letter) == (counted_at, totals)  # the same as folding everything again
    assert buckets(letter) == repaired


def test_a_commit_later_than_the_recheck_is_found_by_the_reconcile_which_leaves_an_exact_count_alone():
    letter = LetterFactory()
    t0 = timezone.now() - timedelta(minutes=10)
    ada = signed(letter, name="Ada Lovelace", email="ada@example.org", at=t0)
    assert letter_counts_reconcile() == 0  # folds up to now; totals and history agree
    # An event no count sees (a resent confirmation), committed long after the horizon passed its `at`.
    signature_event_record(
        signature=ada, kind=SignatureEvent.Kind.RESENT, before=SignatureState(visible=True, level="email"), at=t0
    )
    letter_count_refresh(letter_id=letter.pk)
    assert timezone.now() - t0 > LATE_RECHECK
    days = LetterCountBucket.objects.filter(letter=letter, span="day")
    assert sum(days.values_list("events", flat=True)) == 2  # beyond the fold's recheck: not seen yet
    assert letter_counts_reconcile() == 1
    assert sum(days.values_list("events", flat=True)) == 3
    assert letter_counts_reconcile() == 0


ACTIONS = st.lists(
    st.tuples(st.sampled_from(["sign", "withdraw", "fold"]), st.integers(0, 5), st.integers(0, 50)),
    min_size=1,
    max_size=30,
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(actions=ACTIONS)
def test_after_every_fold_the_totals_are_the_replay_at_its_label(actions):
    """Events commit in any order up to LATE_RECHECK after their `at`; folds come in between."""
    letter = LetterFactory()
    clock = timezone.now() - timedelta(hours=1)
    for step, (action, who, late) in enumerate(actions):
        clock += timedelta(seconds=3)
        at = clock - timedelta(seconds=late)
        live = Signature.objects.filter(letter=letter, email_key=f"p{who}@example.org", status="confirmed").first()
        if action == "sign" and live is None:
            signed(letter, name=f"Person {step}", email=f"p{who}@example.org", at=at, name_shown=who % 2 == 0)
        elif action == "withdraw" and live is not None:
            signature_withdraw(signature=live, at=max(at, live.confirmed_at + timedelta(milliseconds=1)))
        elif action == "fold":
            letter_count_refresh(letter_id=letter.pk, now=clock)
            counted_at, totals = folded(letter)
            assert counted_at == clock - FOLD_MARGIN
            assert totals == replayed(letter, counted_at)
    letter_count_refresh(letter_id=letter.pk, now=clock + timedelta(seconds=2))
    counted_at, totals = folded(letter)
    assert totals == replayed(letter, counted_at)
    after = buckets(letter)
    letter_count_rebuild(letter_id=letter.pk, now=clock + timedelta(seconds=2))
    assert (folded(letter), buckets(letter)) == ((counted_at, totals), after)


def test_a_read_refolds_a_count_whose_horizon_is_older_than_stale_after():
    letter = LetterFactory()
    signed(letter, at=timezone.now() - timedelta(seconds=30))
    letter_count_refresh(letter_id=letter.pk, now=timezone.now() - timedelta(seconds=40))
    assert folded(letter)[1]["public"] == 0
    before = timezone.now()
    count = letter_count_fresh(letter=letter)
    assert count.public == 1
    assert before - FOLD_MARGIN <= count.counted_at <= timezone.now() - FOLD_MARGIN
    fresh = letter_count_fresh(letter=letter)  # fresh enough: not folded again
    assert (fresh.counted_at, timezone.now() - fresh.counted_at < STALE_AFTER) == (count.counted_at, True)


@pytest.mark.parametrize(("shared_seconds", "bound"), [(2, 10), (0, 8)])
def test_the_staleness_bound_adds_up_what_a_count_can_be_behind(settings, client, shared_seconds, bound):
    """STALE_AFTER (a read refolds past it) + the stats cache (2 s) + the shared answer + 1 s to answer."""
    settings.PUBLIC_RESPONSE_CACHE_SECONDS = shared_seconds
    assert staleness_bound_seconds() == bound
    letter = LetterFactory()
    counts = client.get(f"/api/v1/letters/{letter.slug}/").json()["counts"]
    assert counts["staleness_bound_seconds"] == bound
    horizon = LetterCount.objects.get(letter=letter).counted_at
    assert counts["counted_at"] == horizon.isoformat().replace("+00:00", "Z")


def test_the_reconcile_rebuilds_totals_the_signatures_disagree_with():
    letter = LetterFactory()
    signed(letter, at=timezone.now() - timedelta(minutes=1))
    assert letter_counts_reconcile() == 0
    LetterCount.objects.filter(letter=letter).update(public=7)
    assert letter_counts_reconcile() == 1
    assert LetterCount.objects.get(letter=letter).public == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_read_that_cannot_wait_for_a_long_fold_replays_the_counts_itself():
    """A rebuild of a big letter holds its count row for seconds: a read waits WAIT_FOR_FOLD, then replays."""
    letter = LetterFactory()
    signed(letter, at=timezone.now() - timedelta(seconds=30))
    held, release = threading.Event(), threading.Event()

    def hold() -> None:
        with transaction.atomic():
            LetterCount.objects.select_for_update().get(letter=letter)
            held.set()
            release.wait(10)
        connection.close()

    holder = threading.Thread(target=hold)
    holder.start()
    assert held.wait(5)
    try:
        started = time.monotonic()
        count = letter_count_fresh(letter=letter)
        waited = time.monotonic() - started
    finally:
        release.set()
        holder.join(10)
    assert WAIT_FOR_FOLD <= waited < WAIT_FOR_FOLD + 2
    assert count.public == 1
    assert timezone.now() - count.counted_at < STALE_AFTER
    assert LetterCount.objects.get(letter=letter).counted_at is None  # nothing was folded meanwhile
