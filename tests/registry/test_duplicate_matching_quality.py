"""Measured dedup quality on a fixed-seed labelled set of about 2,000 people."""

import time

from registry.duplicate_matching import find_duplicates
from registry.labelled import KINDS, labelled_people, precision_recall


def test_precision_and_recall_on_the_labelled_set(capsys):
    labelled = labelled_people(2000, seed=7)
    started = time.perf_counter()
    found = {(m.a, m.b) for m in find_duplicates(labelled.records)}
    elapsed = time.perf_counter() - started
    figures = precision_recall(found, labelled.duplicates)

    with capsys.disabled():
        print(
            f"\ndedup on {len(labelled.records)} people: {elapsed:.2f} s, "
            f"precision {figures['precision']:.4f}, recall {figures['recall']:.4f} "
            f"({figures['found']} found, {figures['true']} true)"
        )
        for kind in KINDS:
            print(f"  recall {kind:12} {figures['recall_by_kind'][kind]:.3f}")

    assert 1900 <= len(labelled.records) <= 2100
    assert set(labelled.duplicates.values()) == set(KINDS)
    assert figures["precision"] >= 0.95
    assert figures["recall"] >= 0.90
    assert all(figures["recall_by_kind"][kind] >= 0.8 for kind in KINDS)


def test_the_labelled_set_is_reproducible():
    first, second = labelled_people(300, seed=11), labelled_people(300, seed=11)
    assert [r.name for r in first.records] == [r.name for r in second.records]
    assert first.duplicates == second.duplicates
