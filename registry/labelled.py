"""A labelled set of people (fixed seed) with injected duplicates of known kinds, for measuring dedup quality.

Hard on purpose: duplicates carry typos in the given name or several edits, drop parts of the name, or write their
organization differently (a typo, an acronym) so that it links to another, unreviewed organization; distinct people
share surnames and initials, names one letter apart, and some share a whole name (at other organizations and
domains).
"""

import random
from dataclasses import dataclass

from faker import Faker

from registry.duplicate_matching import PersonRecord
from registry.nicknames import GROUPS, canonical_given_name
from registry.normalize import organization_name_key

KINDS = ("typo", "given_typo", "several_edits", "nickname", "initials", "swapped", "accents", "confusable",
         "org_alias", "email_alias", "org_typo", "org_acronym", "missing_part")  # fmt: skip
ACCENTED = {"a": "á", "e": "é", "i": "í", "o": "ö", "u": "ü", "n": "ñ", "c": "ç"}
CONFUSABLE = {"a": "а", "e": "е", "o": "о", "p": "р", "c": "с", "x": "х", "i": "і"}  # Cyrillic look-alikes
NICKNAMES = {group.split()[0]: group.split()[1:] for group in GROUPS}
ORGANIZATIONS = 60
REVIEWED = 20  # organizations 1..20 are reviewed, with verified domains


@dataclass
class LabelledSet:
    records: list[PersonRecord]
    duplicates: dict[tuple[int, int], str]  # (a, b) with a < b → kind


def _typo(word: str, rng: random.Random) -> str:
    """One edit: a transposition, a deletion, an insertion or a substitution, never at the first letter."""
    if len(word) < 3:
        return word + rng.choice("aeiou")
    i = rng.randrange(1, len(word) - 1)
    edit = rng.randrange(4)
    if edit == 0:
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    if edit == 1:
        return word[:i] + word[i + 1 :]
    letter = rng.choice("aeiourstnl")
    return word[:i] + letter + word[i:] if edit == 2 else word[:i] + letter + word[i + 1 :]


def _acronym(name: str) -> str:
    words = [w for w in organization_name_key(name).split() if w not in {"and", "of", "the"}]
    return "".join(w[0] for w in words).upper()


def labelled_people(n: int = 2000, *, seed: int = 7) -> LabelledSet:
    """About n people: 20% get an injected duplicate (kinds in rotation), 20% a similar-named distinct person."""
    fake = Faker("en_US")
    fake.seed_instance(seed)
    rng = random.Random(seed)
    orgs: dict[int, str] = {}
    while len(orgs) < ORGANIZATIONS:
        name = fake.company() if len(orgs) % 4 else f"University of {fake.city()}"
        if len(organization_name_key(name).split()) > 1 and organization_name_key(name) not in {
            organization_name_key(o) for o in orgs.values()
        }:
            orgs[len(orgs) + 1] = name
    domains = {i: f"{organization_name_key(name).split()[0]}{i}.example" for i, name in orgs.items()}
    records: list[PersonRecord] = []
    duplicates: dict[tuple[int, int], str] = {}
    next_id = 1

    def add(name: str, emails: set[str], org: int | None, org_text: str | None = None) -> PersonRecord:
        nonlocal next_id
        organizations: dict[int, str] = {}
        if org_text is not None:  # other text for the organization: linked to a new, unreviewed candidate
            orgs[len(orgs) + 1] = org_text
            organizations = {len(orgs): org_text}
        elif org:
            organizations = {org: orgs[org]}
        record = PersonRecord(
            id=next_id,
            name=name,
            email_keys=frozenset(emails),
            organizations=organizations,
            reviewed=frozenset(o for o in organizations if o <= REVIEWED),
            verified_domains=frozenset(e.rpartition("@")[2] for e in emails)
            & {d for i, d in domains.items() if i <= REVIEWED},
        )
        records.append(record)
        next_id += 1
        return record

    def other_org(org: int) -> int:
        return (org + rng.randrange(1, ORGANIZATIONS - 1) - 1) % ORGANIZATIONS + 1

    originals = int(n * 0.7)
    seen: set[tuple[str, str]] = set()
    for index in range(originals):
        given, surname = "", ""
        while not given or (canonical_given_name(given.lower()), surname) in seen or (given[:1], surname) in seen:
            given = rng.choice(list(NICKNAMES)) if index % 3 == 0 else fake.first_name()
            surname = fake.last_name()
        seen.update({(canonical_given_name(given.lower()), surname), (given[:1], surname)})
        given = given.title()
        org = rng.randrange(1, ORGANIZATIONS + 1)
        base = add(f"{given} {surname}", {f"{given.lower()}.{surname.lower()}{index}@{domains[org]}"}, org)
        roll = index % 20
        if roll < 4:
            kind = KINDS[(index // 20 * 4 + roll) % len(KINDS)]
            name, emails = f"{given} {surname}", {f"{given.lower()}{index}@gmail.com"}
            dup_org: int | None = org
            org_text = None
            if kind == "typo":
                name = f"{given} {_typo(surname, rng)}"
            elif kind == "given_typo":
                name = f"{_typo(given, rng)} {surname}"
            elif kind == "several_edits":
                name = f"{_typo(given, rng)} {_typo(surname, rng)}"
            elif kind == "nickname":
                options = NICKNAMES.get(given.lower()) or [given.lower()]
                name = f"{rng.choice(options).title()} {surname}"
            elif kind == "initials":
                name = f"{given[0]}. {surname}"
            elif kind == "swapped":
                name = f"{surname}, {given}" if rng.random() < 0.5 else f"{surname} {given}"
            elif kind == "accents":
                name = "".join(ACCENTED.get(ch, ch) if rng.random() < 0.5 else ch for ch in name)
            elif kind == "confusable":
                name = "".join(CONFUSABLE.get(ch, ch) if rng.random() < 0.5 else ch for ch in name)
            elif kind == "org_alias":
                emails = {f"{given.lower()}.{surname.lower()}@personal{index}.example"}
            elif kind == "email_alias":
                emails = set(base.email_keys)
                dup_org = None
            elif kind == "org_typo":
                org_text = " ".join(
                    _typo(w, rng) if len(w) > 4 and rng.random() < 0.5 else w for w in orgs[org].split()
                )
                org_text = org_text if org_text != orgs[org] else _typo(orgs[org], rng)
            elif kind == "org_acronym":
                org_text = _acronym(orgs[org])
            elif kind == "missing_part":
                name = surname  # given name left out; same organization and email domain
                emails = {f"{surname.lower()}{index}@{domains[org]}"}
            dup = add(name, emails, dup_org, org_text)
            duplicates[(base.id, dup.id)] = kind
        elif roll in (4, 5, 6, 7):  # a distinct person: another given name, same surname, another employer
            other_given = fake.first_name()
            while other_given.lower()[:1] == given.lower()[:1] or (other_given[:1], surname) in seen:
                other_given = fake.first_name()
            seen.update({(canonical_given_name(other_given.lower()), surname), (other_given[:1], surname)})
            other = other_org(org)
            add(f"{other_given} {surname}", {f"{other_given.lower()}{index}@{domains[other]}"}, other)
        elif roll in (8, 9):  # a harder distinct person: same surname and first initial, another employer
            same_initial = [
                name
                for name in (fake.first_name() for _ in range(80))
                if name[:1] == given[:1]
                and canonical_given_name(name.lower()) != canonical_given_name(given.lower())
                and (canonical_given_name(name.lower()), surname) not in seen
            ]
            if same_initial:
                other_given = same_initial[0]
                seen.add((canonical_given_name(other_given.lower()), surname))
                other = other_org(org)
                add(f"{other_given} {surname}", {f"{other_given.lower()}{index}@{domains[other]}"}, other)
        elif roll == 10:  # a namesake: the very same name, another employer and domain
            other = other_org(org)
            add(f"{given} {surname}", {f"{given.lower()}{index}@{domains[other]}"}, other)
        elif roll == 11:  # a near namesake: a surname one letter apart, another employer and domain
            other = other_org(org)
            add(f"{given} {_typo(surname, rng)}", {f"{given.lower()}.x{index}@{domains[other]}"}, other)
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
