"""Finding people who are the same person: blocking keys, vectorized scoring within blocks, readable reasons.

Work grows about linearly: people are only compared within blocks that share a key (surname skeleton, email key,
organization + first initial), and each block is scored at once with rapidfuzz's `process.cdist`.
"""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA

from registry.nicknames import nickname_groups
from registry.normalize import fold, person_name

FREE_MAIL = {"gmail.com", "outlook.com", "hotmail.com", "yahoo.com", "icloud.com", "proton.me", "protonmail.com",
             "aol.com", "live.com", "me.com", "gmx.com", "fastmail.com"}  # fmt: skip
THRESHOLD = 0.88
NAME_FLOOR = 70.0  # cdist cut-off (0–100) before evidence is weighed
NAME_EVIDENCE = 0.85
MAX_BLOCK = 3000


@dataclass
class PersonRecord:
    id: int
    name: str
    email_keys: frozenset[str] = frozenset()
    organizations: dict[int, str] = field(default_factory=dict)  # id → display name

    def __post_init__(self) -> None:
        parsed = person_name(self.name)
        self.given, self.surname, self.initial_only = parsed.given, parsed.surname, parsed.initial_only
        self.key = " ".join(filter(None, [parsed.given, parsed.surname]))
        self.domains = frozenset(k.rpartition("@")[2] for k in self.email_keys) - FREE_MAIL
        self.raw_given = parsed.given_as_written  # "Katie" of "Dr. Katie Lindqvist", never the title
        self.given_groups = nickname_groups(fold(self.raw_given)) if self.raw_given else set()


@dataclass(frozen=True)
class Match:
    a: int
    b: int
    score: float
    reasons: tuple[str, ...]


def blocking_keys(record: PersonRecord) -> set[str]:
    keys = {f"email:{k}" for k in record.email_keys}
    if record.surname:
        keys.add(f"surname:{record.surname}")
        keys.add(f"surname4:{record.surname[:4]}:{record.given[:1]}")
    if record.given and len(record.given) > 1:
        keys.add("tokens:" + " ".join(sorted((record.given, record.surname))))  # swapped order: "Moussouris Katie"
    for org_id in record.organizations:
        keys.add(f"org:{org_id}:{record.given[:1]}")
    return keys


def _one_letter_apart(x: str, y: str) -> bool:
    """One typo apart; skeletons read "rn" as "m", so a typo next to an "r" or "n" is also tried unfolded."""
    return OSA.distance(x, y) <= 1 or OSA.distance(x.replace("m", "rn"), y.replace("m", "rn")) <= 1


def _evaluate(a: PersonRecord, b: PersonRecord, name_score: float) -> Match | None:
    if a.id > b.id:
        a, b = b, a  # reasons read from the older person to the newer, like the stored pair
    reasons: list[str] = []
    score = name_score / 100
    if a.surname == b.surname and a.given[:1] == b.given[:1] and (a.initial_only or b.initial_only):
        score = max(score, 0.9)
        reasons.append(f"{a.raw_given} ≈ {b.raw_given} (initial)")
    elif (
        a.surname == b.surname
        and (a.given == b.given or a.given_groups & b.given_groups)
        and (fold(a.raw_given) != fold(b.raw_given))
    ):
        score = max(score, 0.95)
        reasons.append(f"{a.raw_given} ≈ {b.raw_given} (nickname or spelling)")
    if a.surname == b.surname:
        reasons.append("surname identical")
    elif sorted(a.key.split()) == sorted(b.key.split()):
        score = max(score, 0.95)
        reasons.append("same name in swapped order")
    elif _one_letter_apart(a.surname, b.surname):
        if a.given == b.given and len(a.given) > 1 and max(len(a.surname), len(b.surname)) >= 4:
            score = max(score, 0.9)  # short names lose much of their string similarity to a single typo
        reasons.append(f"surname {a.surname} ≈ {b.surname} (one letter apart)")
    else:
        # Surnames further apart than one typo are different families ("Martin" / "Martinez", "Fowler" / "Foley"):
        # only a shared email address can still make them one person.
        score = min(score, NAME_EVIDENCE - 0.01)
        reasons.append(f"name similarity {score:.0%}")
    shared_email = a.email_keys & b.email_keys
    if score < NAME_EVIDENCE and not shared_email:
        return None  # shared employers and domains support a name match; they never make one
    if shared_email:
        score = 1.0
        reasons.insert(0, "same email address")
    shared_domain = a.domains & b.domains
    if shared_domain and not shared_email:
        score += 0.05
        reasons.append(f"same email domain {sorted(shared_domain)[0]}")
    shared_org = set(a.organizations) & set(b.organizations)
    if shared_org:
        score += 0.08
        reasons.insert(0, f"same organization {a.organizations[min(shared_org)]}")
    elif a.organizations and b.organizations and not shared_email:
        score -= 0.15
    if score < THRESHOLD:
        return None
    lo, hi = sorted((a.id, b.id))
    return Match(a=lo, b=hi, score=round(min(score, 1.0), 4), reasons=tuple(reasons))


def _block_matches(members: list[PersonRecord]) -> Iterable[Match]:
    names = [m.key for m in members]
    matrix = process.cdist(names, names, scorer=fuzz.token_sort_ratio, score_cutoff=NAME_FLOOR, dtype="uint8")
    rows, cols = (matrix > 0).nonzero()
    for i, j in zip(rows.tolist(), cols.tolist(), strict=True):
        if i < j:
            match = _evaluate(members[i], members[j], float(matrix[i, j]))
            if match:
                yield match
    by_surname: dict[str, list[PersonRecord]] = defaultdict(list)
    for member in members:  # initials and nicknames score low as strings: compare them by rule
        by_surname[member.surname].append(member)
    for group in by_surname.values():
        for i, a in enumerate(group):
            for b in group[i + 1 :]:
                initial = (a.initial_only or b.initial_only) and a.given[:1] == b.given[:1]
                if initial or (a.given_groups & b.given_groups):
                    match = _evaluate(a, b, 90.0)
                    if match:
                        yield match
    emails: dict[str, list[PersonRecord]] = defaultdict(list)
    for member in members:  # same email key beats any name difference
        for key in member.email_keys:
            emails[key].append(member)
    for group in emails.values():
        for i, a in enumerate(group):
            for b in group[i + 1 :]:
                match = _evaluate(a, b, 100.0)
                if match:
                    yield match


def find_duplicates(records: list[PersonRecord], *, only_block_keys: set[str] | None = None) -> list[Match]:
    """All likely duplicate pairs among `records` (best score per pair); optionally only some blocks (a chunk)."""
    blocks: dict[str, list[PersonRecord]] = defaultdict(list)
    for record in records:
        for key in blocking_keys(record):
            if only_block_keys is None or key in only_block_keys:
                blocks[key].append(record)
    best: dict[tuple[int, int], Match] = {}
    for members in blocks.values():
        if len(members) < 2:
            continue
        for start in range(0, len(members), MAX_BLOCK):
            for match in _block_matches(members[start : start + MAX_BLOCK]):
                pair = (match.a, match.b)
                if pair not in best or best[pair].score < match.score:
                    best[pair] = match
    return sorted(best.values(), key=lambda m: (-m.score, m.a, m.b))


def naive_duplicates(records: list[PersonRecord]) -> list[Match]:
    """All pairs compared one by one: the baseline the blocking is measured against (benchmarks, tests)."""
    found = []
    for i, a in enumerate(records):
        for b in records[i + 1 :]:
            name_score = fuzz.token_sort_ratio(a.key, b.key)
            if name_score >= NAME_FLOOR or a.email_keys & b.email_keys:
                match = _evaluate(a, b, name_score)
                if match:
                    found.append(match)
    return found


def blocked_pairs(records: list[PersonRecord]) -> set[tuple[int, int]]:
    """Every pair that meets in a block, i.e. is ever compared (for measuring blocking recall)."""
    blocks: dict[str, list[int]] = defaultdict(list)
    for record in records:
        for key in blocking_keys(record):
            blocks[key].append(record.id)
    pairs = set()
    for ids in blocks.values():
        for start in range(0, len(ids), MAX_BLOCK):
            part = sorted(ids[start : start + MAX_BLOCK])
            pairs.update((a, b) for i, a in enumerate(part) for b in part[i + 1 :])
    return pairs
