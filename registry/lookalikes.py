"""People already in the registry that someone not yet in it may be: for an import's preview, before anything is
stored. The same matcher, blocks, weights, prior (the last whole scan's) and reasons as the duplicate queue
(registry.duplicate_matching)."""

from dataclasses import dataclass

from registry.duplicate_matching import PersonRecord, block_map, find_duplicates
from registry.duplicate_scans import duplicates_in_use, person_records
from registry.models import Person


@dataclass(frozen=True)
class Newcomer:
    name: str
    email_key: str = ""
    organization_name: str = ""


@dataclass(frozen=True)
class Lookalike:
    person_public_id: str
    name: str
    score: float
    reasons: tuple[str, ...]


def _unsliced(key: str) -> str:
    """A block key without the "/n" block_map adds to the slices of a big block (it filters on the key itself)."""
    base, _, tail = key.rpartition("/")
    return base if base and tail.isdigit() else key


def people_resembling(newcomers: list[Newcomer], *, per_newcomer: int = 3) -> dict[int, list[Lookalike]]:
    """{index in `newcomers`: the people the duplicate matcher would pair it with, most likely first}."""
    if not newcomers:
        return {}
    records = person_records()
    if not records:
        return {}  # nobody to resemble (two newcomers are not this question)
    guests = [
        PersonRecord(
            id=-(index + 1),
            name=newcomer.name,
            email_keys=frozenset({newcomer.email_key}) if newcomer.email_key else frozenset(),
            organizations={-(index + 1): newcomer.organization_name} if newcomer.organization_name else {},
        )
        for index, newcomer in enumerate(newcomers)
    ]
    population = records + guests
    # The blocks a whole scan would score that hold a newcomer (name and sound keys, sorted neighbourhoods, slices
    # of big blocks alike); only those are scored.
    keys = {_unsliced(key) for key, block in block_map(population).items() if any(member.id < 0 for member in block)}
    found: dict[int, list[tuple[float, int, tuple[str, ...]]]] = {}
    for match in find_duplicates(population, only_block_keys=keys, duplicates=duplicates_in_use()):
        guest, person = (match.a, match.b) if match.a < 0 else (match.b, match.a)
        if guest >= 0 or person < 0:
            continue  # two people already known, or two newcomers: not this question
        found.setdefault(-guest - 1, []).append((match.score, person, match.reasons))
    people = {
        p.pk: p
        for p in Person.objects.filter(pk__in={pk for hits in found.values() for _, pk, _ in hits}).only(
            "pk", "public_id", "display_name"
        )
    }
    return {
        index: [
            Lookalike(person_public_id=people[pk].public_id, name=people[pk].display_name, score=score, reasons=reasons)
            for score, pk, reasons in sorted(hits, key=lambda hit: -hit[0])[:per_newcomer]
            if pk in people
        ]
        for index, hits in found.items()
    }
