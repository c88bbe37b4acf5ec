"""Comparison levels (Fellegi–Sunter): each comparison of two records falls in one level, each level has a weight.

Two ways to the same levels: `pair_levels` for one pair (explanations, the naive loop, records with several
organizations) and `block_levels` for every pair of a block at once (rapidfuzz `cdist` and numpy). They use the same
library calls and thresholds, and weights are whole centibits, so both give the same total to the unit.
"""

import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from rapidfuzz import process
from rapidfuzz.distance import OSA, JaroWinkler

from registry.dedup.records import OrgName, PersonRecord

if TYPE_CHECKING:
    from registry.dedup.table import RecordTable

# Name comparisons (given name, surname, and "cross" for a swapped order): most to least similar, then missing.
NAME_LEVELS = ("exact", "nickname", "initial", "one_edit", "jw92", "jw85", "jw75", "different", "missing")
ORG_LEVELS = ("same", "acronym", "similar", "fuzzy", "different", "different_reviewed", "missing")
DOMAIN_LEVELS = ("same", "different", "different_verified", "missing")
NL = {name: i for i, name in enumerate(NAME_LEVELS)}
OL = {name: i for i, name in enumerate(ORG_LEVELS)}
DL = {name: i for i, name in enumerate(DOMAIN_LEVELS)}


def name_level(x: str, y: str, groups_x: frozenset[int] = frozenset(), groups_y: frozenset[int] = frozenset()) -> int:
    if not x or not y:
        return NL["missing"]
    if x == y:
        return NL["exact"]
    if groups_x & groups_y:
        return NL["nickname"]
    if len(x) == 1 or len(y) == 1:
        return NL["initial"] if x[0] == y[0] else NL["different"]
    if OSA.distance(x, y) <= 1:
        return NL["one_edit"]
    jw = JaroWinkler.similarity(x, y)
    return NL["jw92"] if jw >= 0.92 else NL["jw85"] if jw >= 0.85 else NL["jw75"] if jw >= 0.75 else NL["different"]


class _Column:
    """One text field of every record, with what the level rules need of it, gathered for pairs by index."""

    def __init__(self, values: list[str] | np.ndarray) -> None:
        self.text = np.asarray(values, dtype=object)
        self.length = np.fromiter((len(v) for v in values), dtype=np.int32, count=len(values))
        self.first = np.array([v[:1] for v in values], dtype=object)


def cross_level(x: str, y: str) -> int:
    """A given name against a surname (swapped order): exact, one edit, or not at all (Jaro-Winkler bands between
    a given name and a surname say little, and cost a comparison per pair)."""
    if not x or not y:
        return NL["missing"]
    if x == y:
        return NL["exact"]
    if len(x) > 1 and len(y) > 1 and abs(len(x) - len(y)) <= 1 and OSA.distance(x, y) <= 1:
        return NL["one_edit"]
    return NL["different"]


def _cross_levels(xs: "_Column", left: np.ndarray, ys: "_Column", right: np.ndarray) -> np.ndarray:
    x, y = xs.text[left], ys.text[right]
    lx, ly = xs.length[left], ys.length[right]
    missing = (lx == 0) | (ly == 0)
    exact = x == y
    near = ~(missing | exact) & (lx > 1) & (ly > 1) & (np.abs(lx - ly) <= 1)
    edits = np.full(len(x), 2, dtype=np.int32)
    if near.any():
        edits[near] = process.cpdist(x[near], y[near], scorer=OSA.distance, dtype=np.int32, workers=1)
    return np.select(
        [missing, exact, edits <= 1], [NL["missing"], NL["exact"], NL["one_edit"]], default=NL["different"]
    ).astype(np.int8)


def _name_levels(xs: _Column, left: np.ndarray, ys: _Column, right: np.ndarray, nick: np.ndarray | None) -> np.ndarray:
    """`name_level` of xs[left[n]] against ys[right[n]] for every n at once."""
    x, y = xs.text[left], ys.text[right]
    lx, ly = xs.length[left], ys.length[right]
    missing = (lx == 0) | (ly == 0)
    exact = x == y
    one = (lx == 1) | (ly == 1)
    first = xs.first[left] == ys.first[right]
    # String distances only where the cheaper rules leave the level open (one edit needs lengths one apart).
    open_ = ~(missing | exact | one)
    edits = np.full(len(x), 2, dtype=np.int32)
    near = open_ & (np.abs(lx - ly) <= 1)
    if near.any():
        edits[near] = process.cpdist(x[near], y[near], scorer=OSA.distance, dtype=np.int32, workers=1)
    jw = np.zeros(len(x), dtype=np.float64)
    rest = open_ & (edits > 1)
    if rest.any():
        jw[rest] = process.cpdist(x[rest], y[rest], scorer=JaroWinkler.similarity, dtype=np.float64, workers=1)
    conditions = [missing, exact]
    choices = [NL["missing"], NL["exact"]]
    if nick is not None:
        conditions.append(nick)
        choices.append(NL["nickname"])
    conditions += [one & first, one, edits <= 1, jw >= 0.92, jw >= 0.85, jw >= 0.75]
    choices += [NL["initial"], NL["different"], NL["one_edit"], NL["jw92"], NL["jw85"], NL["jw75"]]
    return np.select(conditions, choices, default=NL["different"]).astype(np.int8)


def org_level(a: PersonRecord, b: PersonRecord) -> int:
    if not a.organizations or not b.organizations:
        return OL["missing"]
    if set(a.organizations) & set(b.organizations):
        return OL["same"]
    if a.reviewed.intersection(a.organizations) and b.reviewed.intersection(b.organizations):
        return OL["different_reviewed"]  # two organizations staff reviewed as distinct
    best = OL["different"]
    for names_a in a.org_names.values():
        for names_b in b.org_names.values():
            for x in names_a:
                for y in names_b:
                    best = min(best, _org_name_level(x, y))
    return best


def _org_name_level(x: OrgName, y: OrgName) -> int:
    if x.compact == y.compact:
        return OL["similar"]
    if x.compact in y.short or y.compact in x.short:
        return OL["acronym"]
    if x.digits != y.digits:
        return OL["different"]
    jw = JaroWinkler.similarity(x.key, y.key)
    return OL["similar"] if jw >= 0.92 else OL["fuzzy"] if jw >= 0.80 else OL["different"]


def domain_level(a: PersonRecord, b: PersonRecord) -> int:
    if not a.domains or not b.domains:
        return DL["missing"]
    if a.domains & b.domains:
        return DL["same"]
    if a.verified_domains and b.verified_domains:
        return DL["different_verified"]
    return DL["different"]


class Frequencies:
    """How common each given name, surname and organization is among the records compared (term frequencies): an
    exact match on a rare value weighs more than the average exact match, on a common one less (Splink's term
    frequency adjustment). Estimates are shrunk towards the training average by TF_PSEUDO pseudo-records, so a
    handful of records moves them little."""

    def __init__(self, records: Iterable[PersonRecord] = ()) -> None:
        self.total = 0
        self.duplicates: float | None = None  # duplicates per person (registry.dedup.prior); None: the default
        self.counts: dict[str, Counter[str | int]] = {"given": Counter(), "surname": Counter(), "org": Counter()}
        for record in records:
            self.add(record)
        self._cache: dict[tuple[str, str | int], int] = {}

    def add(self, record: PersonRecord) -> None:
        self.total += 1
        if record.given:
            self.counts["given"][record.given] += 1
        if record.surname:
            self.counts["surname"][record.surname] += 1
        self.counts["org"].update(list(record.organizations))

    @classmethod
    def of_counts(cls, total: int, counts: dict[str, dict], duplicates: float | None = None) -> "Frequencies":
        """Frequencies from counts already taken (the check at confirmation reads them from the key index), and the
        duplicates per person of the last whole scan."""
        freq = cls([])
        freq.total, freq.duplicates = total, duplicates
        for kind, by_value in counts.items():
            freq.counts[kind].update(by_value)
        return freq

    def adjust(self, kind: str, value: str | int, weights) -> int:
        if not value:
            return 0
        cached = self._cache.get((kind, value))
        if cached is None:
            u0 = weights.TF_U[("given", "surname", "org").index(kind)]
            u = (self.counts[kind][value] + TF_PSEUDO * u0) / (self.total + TF_PSEUDO)
            cached = max(-TF_CAP, min(TF_CAP, round(100 * math.log2(u0 / u))))
            self._cache[(kind, value)] = cached
        return cached


def frequency_keys(record: PersonRecord) -> dict[str, tuple[str, str | int]]:
    """Index keys that count what Frequencies counts for one record: key → (kind, value)."""
    keys: dict[str, tuple[str, str | int]] = {}
    if record.given:
        keys[f"tf:given:{record.given}"] = ("given", record.given)
    if record.surname:
        keys[f"tf:surname:{record.surname}"] = ("surname", record.surname)
    for org_id in record.organizations:
        keys[f"tf:org:{org_id}"] = ("org", org_id)
    return keys


TF_PSEUDO = 1000
TF_CAP = 600  # centibits either way


@dataclass(frozen=True)
class PairLevels:
    given: int
    surname: int
    swapped: bool  # compared given name to surname and back
    spaced: bool  # the same letters with spaces elsewhere ("wil liam smith")
    organization: int
    domain: int
    tf_given: int = 0  # term-frequency adjustments of exact matches (straight order only)
    tf_surname: int = 0
    tf_org: int = 0


def pair_levels(a: PersonRecord, b: PersonRecord, weights, freq: Frequencies | None = None) -> PairLevels:
    """The levels of one pair; of the two name orientations, the one with more weight."""
    given = name_level(a.given, b.given, a.given_groups, b.given_groups)
    surname = name_level(a.surname, b.surname)
    tf_given = freq.adjust("given", a.given, weights) if freq and given == NL["exact"] else 0
    tf_surname = freq.adjust("surname", a.surname, weights) if freq and surname == NL["exact"] else 0
    straight = weights.GIVEN[given] + weights.SURNAME[surname] + tf_given + tf_surname
    cross_1, cross_2 = cross_level(a.given, b.surname), cross_level(a.surname, b.given)
    # A swapped order is both names swapped: one name found on the other side and the other different is two
    # people sharing a name ("thomas juarez" / "christine thomas"), scored in the straight order.
    real_swap = NL["different"] not in (cross_1, cross_2)
    swapped = real_swap and weights.CROSS[cross_1] + weights.CROSS[cross_2] > straight
    spaced = _spaced(a, b) and not (given == surname == NL["exact"])
    organization = org_level(a, b)
    shared = set(a.organizations) & set(b.organizations)
    tf_org = max((freq.adjust("org", o, weights) for o in shared), default=0) if freq else 0
    return PairLevels(
        given=cross_1 if swapped else given,
        surname=cross_2 if swapped else surname,
        swapped=swapped,
        spaced=spaced,
        organization=organization,
        domain=domain_level(a, b),
        tf_given=0 if swapped or spaced else tf_given,
        tf_surname=0 if swapped or spaced else tf_surname,
        tf_org=tf_org if organization == OL["same"] else 0,
    )


def _spaced(a: PersonRecord, b: PersonRecord) -> bool:
    return a.joined == b.joined and bool(a.given or b.given) and bool(a.middle or b.middle)


def name_weight(levels: PairLevels, weights) -> int:
    if levels.spaced:
        return weights.GIVEN[NL["exact"]] + weights.SURNAME[NL["exact"]]
    if levels.swapped:
        return weights.CROSS[levels.given] + weights.CROSS[levels.surname]
    return weights.GIVEN[levels.given] + weights.SURNAME[levels.surname] + levels.tf_given + levels.tf_surname


def domain_counts(levels: PairLevels) -> bool:
    """An email domain is new evidence only beside organizations that are not the same (it is mostly their proxy)."""
    return levels.organization != OL["same"]


def names_only(levels: PairLevels) -> bool:
    """Nothing but the names to go on: no organization on one side or the other, and no email domain counted (a
    namesake is then as likely as a duplicate, so these pairs have a threshold of their own)."""
    return levels.organization == OL["missing"] and levels.domain == DL["missing"]


def organization_weight(levels: PairLevels, weights) -> int:
    return weights.ORGANIZATION[levels.organization] + levels.tf_org


def pair_weight(levels: PairLevels, weights) -> int:
    """Total weight; below NAME_MIN of name weight a pair is never proposed (employers support a name match, they
    never make one), which the total then says."""
    name = name_weight(levels, weights)
    if name < weights.NAME_MIN:
        return NEVER
    domain = weights.DOMAIN[levels.domain] if domain_counts(levels) else 0
    return name + organization_weight(levels, weights) + domain


NEVER = -(10**6)


BATCH = 250_000  # pairs scored at once: bounds the memory of the arrays


class RecordColumns:
    """Everything the array scorer needs of each record, built once per scan (not once per batch of pairs)."""

    def __init__(self, table: "RecordTable", weights, freq: Frequencies | None) -> None:
        self.given, self.surname = _Column(table.given), _Column(table.surname)
        self.masks, self.joined = table.masks, table.joined
        self.has_given, self.has_middle = self.given.length > 0, table.has_middle
        self.freq = freq is not None
        if freq is not None:
            self.tf_given = _adjusted(freq, "given", table.given, weights)
            self.tf_surname = _adjusted(freq, "surname", table.surname, weights)
            self.tf_org = _adjusted(freq, "org", table.org_ids.tolist(), weights)
        self.org_ids = table.org_ids
        org_keys = [key or _NO_ORG for key in table.org_key_names]  # one OrgName per distinct name, gathered
        at = table.org_key
        self.org_keys = np.array([k.key for k in org_keys], dtype=object)[at]
        self.compact = np.array([k.compact for k in org_keys], dtype=object)[at]
        shorts = [k.short for k in org_keys]
        self.shorts = [shorts[i] for i in at.tolist()]
        self.longest = np.array([max(map(len, s), default=0) for s in shorts], dtype=np.int32)[at]
        self.compact_length = np.array([len(k.compact) for k in org_keys], dtype=np.int32)[at]
        self.org_digits = np.array([k.digits for k in org_keys], dtype=object)[at]
        for i in np.flatnonzero((at == 0) & (self.org_ids != 0)).tolist():  # a name without a key: like no other
            self.compact[i] = f"\0{i}"
            self.compact_length[i] = len(self.compact[i])
        self.reviewed, self.domains, self.verified = table.reviewed, table.domains, table.verified
        self.has_domain = np.array([bool(d) for d in table.domains.tolist()], dtype=bool)


_NO_ORG = OrgName(key="", compact="", short=frozenset())  # no organization: never compared (level "missing")


def _adjusted(freq: Frequencies, kind: str, values, weights) -> np.ndarray:
    return np.fromiter((freq.adjust(kind, v, weights) for v in values), dtype=np.int64, count=len(values))


def pair_weights(
    records: "list[PersonRecord] | RecordTable",
    left: np.ndarray,
    right: np.ndarray,
    weights,
    freq: Frequencies | None = None,
) -> np.ndarray:
    """`pair_weight` of records[left[n]] and records[right[n]] for every n at once (int64), exact for records that
    are `simple` (one organization, one domain at most)."""
    from registry.dedup.table import RecordTable  # the table gathers what these columns hold

    if len(left) == 0:
        return np.zeros(0, dtype=np.int64)
    table = records if isinstance(records, RecordTable) else RecordTable(records)
    columns = RecordColumns(table, weights, freq)
    return np.concatenate(
        [
            batch_weights(columns, left[start : start + BATCH], right[start : start + BATCH], weights)
            for start in range(0, len(left), BATCH)
        ]
    )


def batch_weights(c: RecordColumns, left: np.ndarray, right: np.ndarray, weights) -> np.ndarray:
    nick = (c.masks[left] & c.masks[right]) != 0
    wg, ws, wc = (np.array(w, dtype=np.int64) for w in (weights.GIVEN, weights.SURNAME, weights.CROSS))
    given_levels = _name_levels(c.given, left, c.given, right, nick)
    surname_levels = _name_levels(c.surname, left, c.surname, right, None)
    straight = wg[given_levels] + ws[surname_levels]
    if c.freq:
        straight += np.where(given_levels == NL["exact"], c.tf_given[left], 0)
        straight += np.where(surname_levels == NL["exact"], c.tf_surname[left], 0)
    cross_1, cross_2 = _cross_levels(c.given, left, c.surname, right), _cross_levels(c.surname, left, c.given, right)
    real_swap = (cross_1 != NL["different"]) & (cross_2 != NL["different"])
    name = np.where(real_swap, np.maximum(straight, wc[cross_1] + wc[cross_2]), straight)
    spaced = (
        (c.joined[left] == c.joined[right])
        & (c.has_given[left] | c.has_given[right])
        & (c.has_middle[left] | c.has_middle[right])
    )
    both_exact = (given_levels == NL["exact"]) & (surname_levels == NL["exact"])
    name = np.where(spaced & ~both_exact, wg[NL["exact"]] + ws[NL["exact"]], name)
    org_levels = _org_levels(c, left, right)
    total = name + np.array(weights.ORGANIZATION, dtype=np.int64)[org_levels]
    total += np.where(org_levels != OL["same"], _domain_weights(c, left, right, weights), 0)
    if c.freq:
        total += np.where(org_levels == OL["same"], c.tf_org[left], 0)
    return np.where(name >= weights.NAME_MIN, total, NEVER)


def _org_levels(c: RecordColumns, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    ids = c.org_ids
    has = (ids[left] != 0) & (ids[right] != 0)  # 0: no organization (lookalikes give newcomers negative ids)
    if not has.any():
        return np.full(len(left), OL["missing"], dtype=np.int8)
    open_ = has & (ids[left] != ids[right])
    jw = np.zeros(len(left), dtype=np.float64)
    if open_.any():
        jw[open_] = process.cpdist(
            c.org_keys[left[open_]], c.org_keys[right[open_]], scorer=JaroWinkler.similarity, dtype=np.float64,
            workers=1,
        )  # fmt: skip
    compact, shorts, longest, length = c.compact, c.shorts, c.longest, c.compact_length
    acronym = np.zeros(len(left), dtype=bool)
    maybe = open_ & ((length[left] <= longest[right]) | (length[right] <= longest[left]))  # short enough to be one
    for n in np.flatnonzero(maybe).tolist():
        i, j = int(left[n]), int(right[n])
        acronym[n] = compact[i] in shorts[j] or compact[j] in shorts[i]
    reviewed = c.reviewed
    level = np.select(
        [
            ~has,
            ids[left] == ids[right],
            reviewed[left] & reviewed[right],
            compact[left] == compact[right],
            acronym,
            c.org_digits[left] != c.org_digits[right],
            jw >= 0.92,
            jw >= 0.80,
        ],
        [
            OL["missing"],
            OL["same"],
            OL["different_reviewed"],
            OL["similar"],
            OL["acronym"],
            OL["different"],
            OL["similar"],
            OL["fuzzy"],
        ],
        default=OL["different"],
    )
    return level.astype(np.int8)


def _domain_weights(c: RecordColumns, left: np.ndarray, right: np.ndarray, weights) -> np.ndarray:
    wd = np.array(weights.DOMAIN, dtype=np.int64)
    level = np.select(
        [
            ~(c.has_domain[left] & c.has_domain[right]),
            c.domains[left] == c.domains[right],
            c.verified[left] & c.verified[right],
        ],
        [DL["missing"], DL["same"], DL["different_verified"]],
        default=DL["different"],
    )
    return wd[level]
