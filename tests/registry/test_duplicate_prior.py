"""The prior (registry.dedup.prior): estimated per registry by EM with the weights fixed, bounded for small ones."""

import random

import numpy as np

from registry.dedup import prior
from registry.dedup.levels import Frequencies
from registry.dedup.matching import duplicates_estimate, duplicates_raw, thresholds
from registry.dedup.table import RecordTable
from registry.dedup.weights import TRAINED
from registry.duplicate_matching import PersonRecord, find_duplicates, scan_duplicates
from registry.labelled import labelled_people

DEFAULT = TRAINED.DUPLICATES_PER_PERSON


def record(pk, name, orgs=None):
    return PersonRecord(id=pk, name=name, email_keys=frozenset({f"p{pk}@gmail.com"}), organizations=orgs or {})


def test_em_with_fixed_weights_counts_the_pairs_that_are_clearly_matches():
    pairs = 1_000_000
    totals = np.array([3000] * 40 + [-300] * 5000 + [200] * 2000)  # 40 sure matches, the rest clearly not
    assert abs(prior.matches_expected(totals, pairs, 1e-5) - 40) < 1
    assert abs(prior.matches_expected(totals, pairs, 1e-5) - prior.matches_expected(totals, pairs, 1e-3)) < 1e-6
    assert prior.matches_expected(np.zeros(0, dtype=np.int64), pairs, 1e-5) == 0


def test_the_estimate_follows_how_many_duplicates_a_registry_has():
    labelled = labelled_people(1500, seed=21)
    few = duplicates_raw(RecordTable(labelled.records))[0]
    many_records = labelled.records + [
        PersonRecord(id=10_000 + r.id, name=r.name, email_keys=frozenset({f"x{r.id}@gmail.com"}))
        for r in labelled.records[:600]
    ]  # 600 more exact copies
    many = duplicates_raw(RecordTable(many_records))[0]
    assert many > few * 1.5
    matches_few = {(m.a, m.b) for m in find_duplicates(labelled.records)}
    assert matches_few  # the estimate is made and used by a whole scan
    _, used = scan_duplicates(many_records)
    assert used == duplicates_estimate(RecordTable(many_records))


def test_a_small_registry_cannot_move_its_thresholds_more_than_the_bound():
    default = thresholds(TRAINED, None)
    bits = 100 * np.log2(prior.BOUND)
    # A letter's 300 signers who are all one of 30 people (ten copies each), and 300 who are all different.
    copies = [record(i, f"Person{i // 10} Signer{i // 10}", {1: "Acme"}) for i in range(300)]
    rng = random.Random(4)
    word = lambda: "".join(rng.choice("bcdfghjklmnprstvz") + rng.choice("aeiou") for _ in range(3))  # noqa: E731
    distinct = [record(i, f"{word()} {word()}") for i in range(300)]
    for people in (copies, distinct, copies[:3], distinct[:2]):
        d = duplicates_estimate(RecordTable(people))
        assert DEFAULT / prior.BOUND <= d <= DEFAULT * prior.BOUND
        freq = Frequencies(people)
        freq.duplicates = d
        shifted = thresholds(TRAINED, freq)
        assert all(abs(s - t) <= bits + 1 for s, t in zip(shifted, default, strict=True))
        assert all(s >= t for s, t in zip(shifted, default, strict=True))  # more duplicates never lower them
    assert duplicates_estimate(RecordTable(copies)) > DEFAULT > duplicates_estimate(RecordTable(distinct))
    # A handful of people moves the estimate little from the default (PSEUDO_PEOPLE).
    assert abs(duplicates_estimate(RecordTable(copies[:3])) - DEFAULT) < 0.05


def test_thresholds_fall_with_more_duplicates_a_person_and_rise_with_more_people():
    def at(people, duplicates):
        freq = Frequencies()
        freq.total, freq.duplicates = people, duplicates
        return thresholds(TRAINED, freq)

    assert at(5000, 1.0)[0] < at(5000, 0.3)[0]
    assert at(10_000, 0.3)[0] - at(5000, 0.3)[0] in (99, 100, 101)  # one bit per doubling at a fixed d
    assert at(10, 0.3) == at(1000, 0.3)  # below the floor, the floor's prior
    assert at(1000, DEFAULT) == thresholds(TRAINED, None)


def test_the_sample_is_the_same_people_every_time_and_bounded():
    ids = np.arange(1, 200_001, dtype=np.int64)
    first = prior.sample_positions(ids)
    assert (first[:6].tolist(), len(first)) == ([4, 12, 25, 33, 46, 59], 19_999)  # pinned: any process, any hash seed
    assert len(prior.sample_positions(ids[:500])) == 500


def test_the_estimate_is_the_same_in_every_process():
    # pytest runs under a random PYTHONHASHSEED: a pinned value catches an estimate that follows set or dict order.
    records = labelled_people(1500, seed=21).records
    assert (round(duplicates_raw(RecordTable(records))[0], 6), duplicates_estimate(RecordTable(records))) == (
        0.142201,
        0.155,
    )


def test_a_small_registry_with_many_duplicates_still_refuses_the_cases_that_must_not_match():
    freq = Frequencies()
    freq.total, freq.duplicates = 900, DEFAULT * prior.BOUND  # the highest estimate a small registry can reach
    assert thresholds(TRAINED, freq) == thresholds(TRAINED, None)
    for people in [
        [record(1, "Alice Zhang", {1: "Nvidia"}), record(2, "Alice Moore", {1: "Nvidia"})],
        [record(1, "Alice Zhang", {1: "Nvidia"}), record(2, "Alice Chang", {2: "X"})],
        [record(5, "Henry Johnson", {4: "Four"}), record(6, "Hannah Johnson", {4: "Four"})],
    ]:
        assert find_duplicates(people, duplicates=DEFAULT * prior.BOUND) == []


def test_the_reason_shows_the_prior_used_and_says_when_a_small_registry_capped_the_estimate():
    assert prior.prior_reason(DEFAULT * prior.BOUND, 900, TRAINED) == (
        "prior -10.9: 1.05 duplicates a person among 1,000 people (the fewest it counts)"
        " (would be -8.9; a small registry's prior is the most)"
    )
    assert prior.prior_reason(0.31, 5000, TRAINED) == "prior -13.0: 0.31 duplicates a person among 5,000 people"
