"""A labelled set of people (fixed seed) with injected duplicates of known kinds, for measuring dedup quality."""

import random
from dataclasses import dataclass

from faker import Faker

from registry.duplicate_matching import PersonRecord
from registry.nicknames import GROUPS, canonical_given_name

KINDS = ("typo", "nickname", "initials", "swapped", "accents", "confusable", "org_alias", "email_alias")
ACCENTED = {"a": "á", "e": "é", "i": "í", "o": "ö", "u": "ü", "n": "ñ", "c": "ç"}
CONFUSABLE = {"a": "а", "e": "е", "o": "о", "p": "р", "c": "с", "x": "х", "i": "і"}  # Cyrillic look-alikes
NICKNAMES = {group.split()[0]: group.split()[1:] for group in GROUPS}


@dataclass
class LabelledSet:
    records: list[PersonRecord]
    duplicates: dict[tuple[int, int], str]  # (a, b) with a < b → kind


def _typo(word: str, rng: random.Random) -> str:
    i = rng.randrange(1, len(word) - 1) if len(word) > 3 else 1
    return word[:i] + word[i + 1] + word[i] + word[i + 2 :] if rng.random() < 0.5 else word[:i] + word[i + 1 :]


def labelled_people(n: int = 2000, *, seed: int = 7) -> LabelledSet:
    """About n people: 20% get an injected duplicate (kinds in rotation), 20% a similar-named distinct person."""
    fake = Faker("en_US")
    fake.seed_instance(seed)
    rng = random.Random(seed)
    orgs = {i: f"Company {i}" for i in range(1, 60)}
    records: list[PersonRecord] = []
    duplicates: dict[tuple[int, int], str] = {}
    next_id = 1

    def add(name: str, emails: set[str], org: int | None) -> PersonRecord:
        nonlocal next_id
        record = PersonRecord(
            id=next_id, name=name, email_keys=frozenset(emails), organizations={org: orgs[org]} if org else {}
        )
        records.append(record)
        next_id += 1
        return record

    originals = int(n * 0.7)
    seen: set[tuple[str, str]] = set()
    for index in range(originals):
        given, surname = "", ""
        while not given or (canonical_given_name(given.lower()), surname) in seen or (given[:1], surname) in seen:
            given = rng.choice(list(NICKNAMES)) if index % 3 == 0 else fake.first_name()
            surname = fake.last_name()
        seen.update({(canonical_given_name(given.lower()), surname), (given[:1], surname)})
        org = rng.randrange(1, 60)
        base = add(
            f"{given.title()} {surname}", {f"{given.lower()}.{surname.lower()}{index}@company{org}.example"}, org
        )
        roll = index % 10
        if roll < 2:
            kind = KINDS[(index // 10) % len(KINDS)]
            name, emails = f"{given.title()} {surname}", {f"{given.lower()}{index}@gmail.com"}
            dup_org: int | None = org
            if kind == "typo":
                name = f"{given.title()} {_typo(surname, rng)}"
            elif kind == "nickname":
                options = NICKNAMES.get(given.lower()) or [given.lower()]
                name = f"{rng.choice(options).title()} {surname}"
            elif kind == "initials":
                name = f"{given[0].upper()}. {surname}"
            elif kind == "swapped":
                name = f"{surname}, {given.title()}"
            elif kind == "accents":
                name = "".join(ACCENTED.get(ch, ch) if rng.random() < 0.5 else ch for ch in name)
            elif kind == "confusable":
                name = "".join(CONFUSABLE.get(ch, ch) if rng.random() < 0.5 else ch for ch in name)
            elif kind == "org_alias":
                emails = {f"{given.lower()}.{surname.lower()}@personal{index}.example"}
            elif kind == "email_alias":
                name = f"{given.title()} {surname}"
                emails = set(base.email_keys)
                dup_org = None
            dup = add(name, emails, dup_org)
            duplicates[(base.id, dup.id)] = kind
        elif roll == 2:
            other_given = fake.first_name()
            while other_given.lower()[:1] == given.lower()[:1] or (other_given[:1], surname) in seen:
                other_given = fake.first_name()
            seen.update({(canonical_given_name(other_given.lower()), surname), (other_given[:1], surname)})
            add(
                f"{other_given} {surname}",
                {f"{other_given.lower()}{index}@company{(org % 58) + 2}.example"},
                (org % 58) + 2,
            )
        elif roll == 3:  # a harder distinct person: same surname and first initial, another employer
            same_initial = [
                name
                for name in (fake.first_name() for _ in range(80))
                if name[:1] == given.title()[:1]
                and canonical_given_name(name.lower()) != canonical_given_name(given.lower())
                and (canonical_given_name(name.lower()), surname) not in seen
            ]
            if same_initial:
                other_given = same_initial[0]
                seen.add((canonical_given_name(other_given.lower()), surname))
                other_org = (org % 58) + 2
                add(f"{other_given} {surname}", {f"{other_given.lower()}{index}@company{other_org}.example"}, other_org)
    return LabelledSet(records=records, duplicates=duplicates)


def precision_recall(found: set[tuple[int, int]], truth: dict[tuple[int, int], str]) -> dict[str, float | dict]:
    true_positive = found & set(truth)
    per_kind = {}
    for kind in KINDS:
        pairs = {p for p, k in truth.items() if k == kind}
        per_kind[kind] = round(len(pairs & found) / len(pairs), 3) if pairs else None
    return {
        "precision": round(len(true_positive) / len(found), 4) if found else 1.0,
        "recall": round(len(true_positive) / len(truth), 4) if truth else 1.0,
        "found": len(found),
        "true": len(truth),
        "recall_by_kind": per_kind,
    }
