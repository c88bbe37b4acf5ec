"""The prior: how likely two people compared are one, estimated per registry (as Splink estimates its
`probability_two_random_records_match` per data set) instead of assumed.

It is held as duplicates per person `d` (the expected number of other records of the same person a record has), so
that among N people the prior is λ = 2d / (N − 1): two registries of the same size but with more duplicates each get
a higher prior, and lower thresholds. A pair is proposed when its posterior log2 odds, the prior's log2 odds plus its
total weight, reach the cut-off chosen on the validation split (Weights.MATCH_ODDS, MATCH_ODDS_NAMES).

`d` is estimated by EM on the total weights of the pairs the blocks compare, with the m/u weights fixed and only
the prior re-estimated (Fellegi–Sunter's mixture: each pair is a match with its posterior probability, and λ is
their sum over all pairs), then shrunk towards the training sets' value by PSEUDO_PEOPLE and bounded to a factor
BOUND of it, so that a small registry (a letter's few hundred signers) cannot move its thresholds by more than
log2(BOUND) bits. Below Weights.POPULATION_FLOOR people the prior is that of the floor (thresholds never fall there).
"""

import math

import numpy as np

SAMPLE = 20_000  # people the estimate scores at most (a fixed sample of ids beyond): it costs a bounded time
PSEUDO_PEOPLE = 200  # people at the training sets' value the estimate is shrunk with
BOUND = 4.0  # the estimate stays within this factor of the training sets' value (2 bits of prior either way)
ITERATIONS = 200


def _odds(duplicates: float, people: int, weights) -> int:
    n = max(people, weights.POPULATION_FLOOR)
    lam = min(2 * duplicates / (n - 1), 0.5)
    return round(100 * math.log2(lam / (1 - lam)))


def prior_odds(duplicates: float, people: int, weights) -> int:
    """log2 of the prior odds that two of `people` people are one, in centibits: never above a small registry's at
    the training sets' value, so an estimate of many duplicates may raise a large registry's prior but never lower
    thresholds below a small registry's (the unit cases that must not match: "Alice Zhang" and "Alice Moore" at one
    employer)."""
    return min(_odds(duplicates, people, weights), _odds(weights.DUPLICATES_PER_PERSON, 0, weights))


def matches_expected(totals: np.ndarray, pairs: int, start: float) -> float:
    """EM with the weights fixed: the number of matches M among `pairs` pairs such that M is the sum of the posterior
    match probabilities of the scored pairs (`totals`, centibits; pairs never scored count as non-matches) under the
    prior λ = M / pairs. Deterministic: the same totals give the same M."""
    if pairs <= 0 or len(totals) == 0:
        return 0.0
    values, counts = np.unique(totals, return_counts=True)
    likelihood = np.exp2(np.clip(values, -6000, 6000) / 100.0)  # m/u of each distinct total
    lam = min(max(start, 1e-12), 0.5)
    matches = lam * pairs
    for _ in range(ITERATIONS):
        odds = lam / (1 - lam)
        matches = float((counts * (odds * likelihood / (1 + odds * likelihood))).sum())
        new = min(max(matches / pairs, 1e-12), 0.5)
        if abs(new - lam) <= 1e-9 * lam:
            break
        lam = new
    return matches


def duplicates_bounded(raw: float, people: int, weights) -> float:
    """The raw estimate of duplicates per person from `people` people, shrunk towards the training sets' value and
    kept within a factor BOUND of it."""
    default = weights.DUPLICATES_PER_PERSON
    shrunk = (raw * people + default * PSEUDO_PEOPLE) / (people + PSEUDO_PEOPLE)
    return round(min(max(shrunk, default / BOUND), default * BOUND), 4)


def sample_positions(ids: np.ndarray, size: int = SAMPLE) -> np.ndarray:
    """Positions of at most about `size` of the records, chosen by a hash of their id (the same people every time)."""
    if len(ids) <= size:
        return np.arange(len(ids))
    hashed = (ids.astype(np.uint64) * np.uint64(2654435761)) % np.uint64(2**32)
    return np.flatnonzero(hashed < np.uint64(size * 2**32 // len(ids)))


def prior_reason(duplicates: float, people: int, weights) -> str:
    """The prior as the admin's duplicate page shows it, after the total and the threshold it sets."""
    counted = max(people, weights.POPULATION_FLOOR)
    least = "" if people >= weights.POPULATION_FLOOR else " (the fewest it counts)"
    prior, estimated = (
        f"{prior_odds(duplicates, people, weights) / 100:+.1f}",
        f"{_odds(duplicates, people, weights) / 100:+.1f}",
    )
    capped = "" if prior == estimated else f" (would be {estimated}; a small registry's prior is the most)"
    return f"prior {prior}: {duplicates:.2f} duplicates a person among {counted:,} people{least}{capped}"
