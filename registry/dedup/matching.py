"""Scoring pairs: the sum of the weights of their comparison levels against a threshold, with readable evidence.

The pairs the blocks compare are scored with arrays (`batch_weights`), in passes over ranges of left positions so
that no more than about PASS_PAIRS pairs exist at once; the pairs over the threshold, those sharing an email address
and every pair of a record with several organizations or domains are then evaluated one by one (`evaluate`, on
records rebuilt from the columns of registry.dedup.table), which also writes the reasons.
"""

import itertools
from collections.abc import Iterable, Sized
from dataclasses import dataclass

import numpy as np

from registry.dedup.blocking import Blocks, block_map
from registry.dedup.levels import (
    BATCH,
    DL,
    NEVER,
    NL,
    OL,
    Frequencies,
    PairLevels,
    RecordColumns,
    batch_weights,
    domain_counts,
    name_weight,
    names_only,
    pair_levels,
    pair_weight,
)
from registry.dedup.prior import duplicates_bounded, matches_expected, prior_odds, prior_reason, sample_positions
from registry.dedup.records import PersonRecord
from registry.dedup.table import RecordTable
from registry.dedup.weights import TRAINED, Weights


@dataclass(frozen=True)
class Match:
    a: int
    b: int
    score: float  # match probability from the total weight and the prior (registry.dedup.prior)
    reasons: tuple[str, ...]  # each piece of evidence with its weight in bits, then the total
    weight: int = 0  # total, centibits


def _bits(weight: int) -> str:
    return f"{weight / 100:+.1f}"


def _weighed(weight: int, frequency: int, kind: str) -> str:
    """A level's weight and, if any, the term-frequency part of it: agreeing on a rare value is stronger evidence
    than on a common one."""
    if abs(frequency) < 5:  # shows as ±0.0
        return _bits(weight + frequency)
    how = "rare" if frequency > 0 else "common"
    return f"{_bits(weight + frequency)}, of which {_bits(frequency)} for how {how} the {kind} is"


def _name_reason(kind: str, x: str, y: str, level: int) -> str:
    if level == NL["exact"]:
        return f"{kind} {x} identical"
    if level == NL["nickname"]:
        return f"{kind} {x} ≈ {y} (nickname)"
    if level == NL["initial"]:
        return f"{kind} {x} ≈ {y} (initial)"
    if level == NL["one_edit"]:
        return f"{kind} {x} ≈ {y} (one letter apart)"
    if level in (NL["jw92"], NL["jw85"], NL["jw75"]):
        return f"{kind} {x} ≈ {y} (similar, Jaro-Winkler ≥ 0.{_NAME_BANDS[level]})"
    if level == NL["missing"]:
        return f"{kind} missing on one side (neutral)"
    return f"{kind} {x} / {y} differ"


_NAME_BANDS = {NL["jw92"]: "92", NL["jw85"]: "85", NL["jw75"]: "75"}
_ORG_TEXT = {
    OL["same"]: "same organization {x}",
    OL["acronym"]: "organization {x} ≈ {y} (acronym)",
    OL["similar"]: "organization {x} ≈ {y} (similar names)",
    OL["fuzzy"]: "organization {x} ~ {y} (somewhat similar names)",
    OL["different"]: "different organization text {x} / {y} (weak evidence)",
    OL["different_reviewed"]: "different reviewed organizations {x} / {y}",
}
_DOMAIN_TEXT = {
    DL["same"]: "same email domain {x}",
    DL["different"]: "different email domains (weak evidence)",
    DL["different_verified"]: "different verified email domains {x} / {y}",
}


def _evidence(a: PersonRecord, b: PersonRecord, levels: PairLevels, weights: Weights) -> list[str]:
    reasons = []
    if levels.spaced:
        exact = weights.GIVEN[NL["exact"]] + weights.SURNAME[NL["exact"]]
        reasons.append(f"same name, spaced differently: {a.name} / {b.name} ({_bits(exact)})")
    elif levels.swapped:
        for x, y, level in ((a.given, b.surname, levels.given), (a.surname, b.given, levels.surname)):
            reasons.append(f"{_name_reason('name (swapped order)', x, y, level)} ({_bits(weights.CROSS[level])})")
    else:
        given = _name_reason("given name", a.given, b.given, levels.given)
        reasons.append(f"{given} ({_weighed(weights.GIVEN[levels.given], levels.tf_given, 'given name')})")
        surname = _name_reason("surname", a.surname, b.surname, levels.surname)
        reasons.append(f"{surname} ({_weighed(weights.SURNAME[levels.surname], levels.tf_surname, 'surname')})")
    if levels.organization != OL["missing"]:
        shared = sorted(set(a.organizations) & set(b.organizations))
        x = a.organizations[shared[0]] if shared else ", ".join(sorted(a.organizations.values()))
        y = ", ".join(sorted(b.organizations.values()))
        text = _ORG_TEXT[levels.organization].format(x=x, y=y)
        reasons.append(f"{text} ({_weighed(weights.ORGANIZATION[levels.organization], levels.tf_org, 'organization')})")
    if levels.domain != DL["missing"] and domain_counts(levels):
        shared_domains = sorted(a.domains & b.domains)
        x = shared_domains[0] if shared_domains else ", ".join(sorted(a.domains))
        text = _DOMAIN_TEXT[levels.domain].format(x=x, y=", ".join(sorted(b.domains)))
        reasons.append(f"{text} ({_bits(weights.DOMAIN[levels.domain])})")
    return reasons


def probability(weight: int, prior: int) -> float:
    """The posterior match probability of a pair of total `weight` under a prior of log2 odds `prior`."""
    return round(1 / (1 + 2 ** (-(weight + prior) / 100)), 4)


def _duplicates(weights: Weights, freq: Frequencies | None) -> float:
    return weights.DUPLICATES_PER_PERSON if freq is None or freq.duplicates is None else freq.duplicates


def _prior(weights: Weights, freq: Frequencies | None) -> int:
    return prior_odds(_duplicates(weights, freq), freq.total if freq is not None else 0, weights)


def thresholds(weights: Weights, freq: Frequencies | None, prior: int | None = None) -> tuple[int, int]:
    """(threshold, names-only threshold) on the total weight: the posterior cut-offs less the prior of the people
    compared (their number and duplicates per person, registry.dedup.prior.prior_odds)."""
    prior = _prior(weights, freq) if prior is None else prior
    return weights.MATCH_ODDS - prior, weights.MATCH_ODDS_NAMES - prior


def evaluate(
    a: PersonRecord, b: PersonRecord, weights: Weights = TRAINED, freq: Frequencies | None = None
) -> Match | None:
    """One pair: its total weight, and if it reaches the threshold, a Match with every piece of evidence."""
    if a.id > b.id:
        a, b = b, a  # reasons read from the older person to the newer, like the stored pair
    levels = pair_levels(a, b, weights, freq)
    total = pair_weight(levels, weights)
    shared_email = bool(a.email_keys & b.email_keys)
    if shared_email:  # decides whatever the names
        total = name_weight(levels, weights) + weights.EMAIL
    prior = _prior(weights, freq)
    threshold, threshold_names = thresholds(weights, freq, prior)
    names_alone = not shared_email and names_only(levels)
    if total < (threshold_names if names_alone else threshold):
        return None
    reasons = _evidence(a, b, levels, weights)
    if shared_email:
        reasons.insert(0, f"same email address ({_bits(weights.EMAIL)})")
    elif names_alone and threshold_names != threshold:
        reasons.append("names are the only evidence (a higher threshold)")
    people, duplicates = freq.total if freq is not None else 0, _duplicates(weights, freq)
    cut = weights.MATCH_ODDS_NAMES if names_alone else weights.MATCH_ODDS
    reasons.append(prior_reason(duplicates, people, weights))
    reasons.append(
        f"total {_bits(total)} (threshold {_bits(threshold_names if names_alone else threshold)}:"
        f" posterior odds of {_bits(cut)} less the prior)"
    )
    return Match(a=a.id, b=b.id, score=probability(total, prior), reasons=tuple(reasons), weight=total)


PASS_PAIRS = 6_000_000  # pairs a pass over the blocks makes at most (before repeats go): bounds their memory
ROW_PAIRS = 1_000_000  # pairs made at once within a pass


def _pair_codes(blocks: Blocks, n: int, which: np.ndarray | None = None, lo: int = 0, hi: int | None = None):
    """Every pair of positions meeting in a block (of those `which` selects) whose left position is in [lo, hi), as
    one code each: left * n + right, ascending, each once."""
    hi = n if hi is None else hi
    sizes = np.diff(blocks.starts)
    chosen = np.ones(len(sizes), dtype=bool) if which is None else which.copy()
    if len(sizes):  # members ascend: a block's lefts run from its first member to its last but one
        chosen &= (blocks.positions[blocks.starts[:-1]] < hi) & (blocks.positions[blocks.starts[1:] - 2] >= lo)
    codes = [np.zeros(0, dtype=np.int64)]
    for size in np.unique(sizes[chosen]).tolist():
        starts = blocks.starts[:-1][chosen & (sizes == size)]
        first, second = np.triu_indices(size, 1)
        rows = max(1, ROW_PAIRS // len(first))
        for row in range(0, len(starts), rows):
            positions = blocks.positions[starts[row : row + rows, None] + np.arange(size)]  # each row ascending
            left = positions[:, first]
            keep = (left >= lo) & (left < hi)
            codes.append(left[keep] * n + positions[:, second][keep])
    out = np.concatenate(codes)
    out.sort()
    return out[np.r_[True, out[1:] != out[:-1]]] if len(out) else out


def _passes(blocks: Blocks, n: int) -> list[tuple[int, int]]:
    """Ranges of left positions, each making at most about PASS_PAIRS pairs (a member makes a pair with each later
    member of its block)."""
    sizes = np.diff(blocks.starts)
    rank = np.arange(len(blocks.positions)) - np.repeat(blocks.starts[:-1], sizes)
    made = np.repeat(sizes, sizes) - 1 - rank
    upto = np.cumsum(np.bincount(blocks.positions, weights=made, minlength=n))
    bounds = np.searchsorted(upto, np.arange(PASS_PAIRS, upto[-1] if n else 0, PASS_PAIRS), side="right")
    edges = [0, *sorted(set(bounds.tolist()) - {0, n}), n]
    return list(itertools.pairwise(edges))


def compared_pairs(records: Sized, blocks: Blocks, lo: int = 0, hi: int | None = None):
    """Every pair of positions in `records` that meets in a block, each once (left < right), and whether the pair
    shares an email address (met in an email block); optionally only the pairs whose left is in [lo, hi)."""
    n = len(records)
    codes = _pair_codes(blocks, n, None, lo, hi)
    emails = _pair_codes(blocks, n, blocks.email, lo, hi)
    return codes // n, codes % n, np.isin(codes, emails, assume_unique=True)


def _scored(table: RecordTable, blocks: Blocks, weights: Weights, freq: Frequencies):
    """Every pair the blocks compare, in batches: (left, right, shares an email, total weight by columns)."""
    columns = RecordColumns(table, weights, freq)
    for lo, hi in _passes(blocks, len(table)):
        left, right, shared_email = compared_pairs(table, blocks, lo, hi)
        for start in range(0, len(left), BATCH):
            i, j = left[start : start + BATCH], right[start : start + BATCH]
            yield i, j, shared_email[start : start + BATCH], batch_weights(columns, i, j, weights)


def _matches(table: RecordTable, blocks: Blocks, weights: Weights, freq: Frequencies) -> Iterable[Match]:
    simple = table.simple
    rebuilt: dict[int, PersonRecord] = {}
    lowest = min(thresholds(weights, freq))
    for i, j, shared_email, totals in _scored(table, blocks, weights, freq):
        # Over the threshold, or with a record of several organizations or domains (scored one by one), or
        # sharing an email address (which decides whatever the names): evaluated one by one, with reasons.
        chosen = (totals >= lowest) | ~(simple[i] & simple[j]) | shared_email
        yield from _evaluated(table, i[chosen].tolist(), j[chosen].tolist(), weights, freq, rebuilt)


REBUILT_KEPT = 65_536  # records rebuilt for evaluation kept for later pairs (a record is in several), at most


def _evaluated(
    table: RecordTable,
    left: list[int],
    right: list[int],
    weights: Weights,
    freq: Frequencies,
    rebuilt: dict[int, PersonRecord],
):
    for i, j in zip(left, right, strict=True):
        if len(rebuilt) >= REBUILT_KEPT:
            rebuilt.clear()
        for k in (i, j):
            if k not in rebuilt:
                rebuilt[k] = table.record(k)
        match = evaluate(rebuilt[i], rebuilt[j], weights, freq)
        if match:
            yield match


def duplicates_raw(table: RecordTable, weights: Weights = TRAINED) -> tuple[float, int]:
    """(duplicates per person among the records of `table`, people it was estimated from): EM on the total weights
    of the pairs the blocks of a fixed sample of them (at most prior.SAMPLE people) compare (registry.dedup.prior),
    before it is shrunk and bounded."""
    positions = sample_positions(table.ids).tolist()
    sample = RecordTable((table.record(i) for i in positions), blocking=True)
    size = len(sample)
    if size < 2:
        return weights.DUPLICATES_PER_PERSON, 0
    simple = sample.simple
    totals = [np.zeros(0, dtype=np.int64)]
    for i, j, _shared_email, scored in _scored(sample, sample.blocks(), weights, sample.freq):
        for n in np.flatnonzero(~(simple[i] & simple[j])).tolist():  # several organizations or domains
            a, b = sample.record(int(i[n])), sample.record(int(j[n]))
            scored[n] = pair_weight(pair_levels(a, b, weights, sample.freq), weights)
        totals.append(scored[scored > NEVER])
    pairs = size * (size - 1) // 2
    matches = matches_expected(np.concatenate(totals), pairs, 2 * weights.DUPLICATES_PER_PERSON / (size - 1))
    return matches * (len(table) - 1) / (size * (size - 1)), size  # λ (N − 1) / 2, λ = matches / pairs


def duplicates_estimate(table: RecordTable, weights: Weights = TRAINED) -> float:
    """Duplicates per person among the records of `table`, shrunk and bounded (registry.dedup.prior)."""
    raw, size = duplicates_raw(table, weights)
    return duplicates_bounded(raw, size, weights)


def scan_duplicates(
    records: Iterable[PersonRecord],
    *,
    only_block_keys: set[str] | None = None,
    chunk: tuple[int, int] | None = None,
    weights: Weights = TRAINED,
    duplicates: float | None = None,
) -> tuple[list[Match], float]:
    """All likely duplicate pairs among `records` (read once: a generator will do), optionally only those of some
    blocks or of one chunk of a scan, under `duplicates` per person (estimated from the records if None: a whole
    scan's first chunk), and the duplicates per person used."""
    table = RecordTable(records, blocking=True, only_block_keys=only_block_keys, chunk=chunk)
    blocks = table.blocks()
    table.freq.duplicates = duplicates_estimate(table, weights) if duplicates is None else duplicates
    found = {(m.a, m.b): m for m in _matches(table, blocks, weights, table.freq)}
    return sorted(found.values(), key=lambda m: (-m.weight, m.a, m.b)), table.freq.duplicates


def find_duplicates(
    records: Iterable[PersonRecord],
    *,
    only_block_keys: set[str] | None = None,
    chunk: tuple[int, int] | None = None,
    weights: Weights = TRAINED,
    duplicates: float | None = None,
) -> list[Match]:
    """`scan_duplicates`' pairs."""
    return scan_duplicates(
        records, only_block_keys=only_block_keys, chunk=chunk, weights=weights, duplicates=duplicates
    )[0]


def person_duplicates(
    person_id: int, records: list[PersonRecord], weights: Weights = TRAINED, duplicates: float | None = None
) -> list[Match]:
    """The pairs of one person that a whole scan of `records` under `duplicates` per person (None: estimated from
    `records`) would find: it against everyone it meets in a block."""
    by_id = {record.id: record for record in records}
    person = by_id.get(person_id)
    if person is None:
        return []
    mates = {m.id for block in block_map(records).values() if any(m.id == person_id for m in block) for m in block} - {
        person_id
    }
    freq = Frequencies(records)
    freq.duplicates = duplicates_estimate(RecordTable(records), weights) if duplicates is None else duplicates
    matches = (evaluate(person, by_id[other], weights, freq) for other in sorted(mates))
    return sorted((m for m in matches if m), key=lambda m: (-m.weight, m.a, m.b))


def naive_duplicates(
    records: list[PersonRecord], weights: Weights = TRAINED, duplicates: float | None = None
) -> list[Match]:
    """All pairs compared one by one: the baseline the blocking is measured against (benchmarks, tests)."""
    found = []
    freq = Frequencies(records)
    freq.duplicates = duplicates_estimate(RecordTable(records), weights) if duplicates is None else duplicates
    for i, a in enumerate(records):
        for b in records[i + 1 :]:
            match = evaluate(a, b, weights, freq)
            if match:
                found.append(match)
    return found
