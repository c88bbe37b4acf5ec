"""Estimate the dedup's evidence weights from labelled pairs and pick its threshold on a validation split.

    python -m bench.dedup_train            # prints the m/u table and the threshold sweep, rewrites weights.py
    python -m bench.dedup_train --dry-run

Training (m and u per comparison level, counted over every pair the blocking compares): FEBRL's febrl2 in both
variants (name only; name + suburb as the organization text) and the project's labelled generator (seed 101).
Validation (the threshold): febrl1 in both variants and the labelled generator (seed 202). febrl3 and febrl4 are
never read here: they are the held-out sets of bench/febrl.py.
"""

import argparse
import math
import os
import random
from collections import Counter
from pathlib import Path

WEIGHTS_FILE = Path(__file__).resolve().parent.parent / "registry" / "dedup" / "weights.py"
FIXED = {"different_reviewed": -1000, "different_verified": -1000, "missing": 0}  # no training data; by rule
EMAIL = 2000
RANDOM_PAIRS = 300_000  # per training set, for u
NAME_MINS = (0, 300, 500, 700, 900, 1100)
COMPARISONS = ("GIVEN", "SURNAME", "CROSS", "ORGANIZATION", "DOMAIN")
SOURCE_SHARE = (0.25, 0.25, 0.5)  # febrl2 names only, febrl2 with suburbs, the labelled set
# The floors on FEBRL; the labelled set's namesakes (same name, other employer and domain) are ambiguous by
# construction, so it gets the quality test's floor.
MIN_PRECISION = {"febrl1/name": 0.90, "febrl1/suburb": 0.97, "labelled-202": 0.95}


def labelled_task(seed: int):
    from registry.labelled import labelled_people

    labelled = labelled_people(2000, seed=seed)
    return labelled.records, set(labelled.duplicates)


def febrl_task(name: str, variant: str):
    from bench.febrl import person_records_in_memory
    from bench.febrl_data import febrl_records, true_pairs

    records = febrl_records(name)
    return person_records_in_memory(records, variant), true_pairs(records)


def level_counts(tasks) -> tuple[list[dict[str, Counter]], dict[str, Counter], int, int]:
    """Counts of each comparison's level among the true pairs of each training source (m) and among random pairs
    of different people (u), as Fellegi and Sunter (and Splink's random sampling) have it: u conditioned on the
    blocking would count the very agreement the blocks are made of against it."""
    from registry.dedup.levels import cross_level, domain_level, name_level, org_level

    ms: list[dict[str, Counter]] = []
    u: dict[str, Counter] = {c: Counter() for c in COMPARISONS}
    matches = pairs = 0
    rng = random.Random(5)
    for people, truth in tasks:
        by_id = {p.id: p for p in people}
        ids = sorted(by_id)
        sample = {tuple(sorted(rng.sample(ids, 2))) for _ in range(RANDOM_PAIRS)} - truth
        matches += len(truth)
        pairs += len(ids) * (len(ids) - 1) // 2
        m: dict[str, Counter] = {c: Counter() for c in COMPARISONS}
        ms.append(m)
        for pair, side in [*((p, m) for p in truth), *((p, u) for p in sample)]:
            a, b = by_id[pair[0]], by_id[pair[1]]
            side["GIVEN"][name_level(a.given, b.given, a.given_groups, b.given_groups)] += 1
            side["SURNAME"][name_level(a.surname, b.surname)] += 1
            side["CROSS"][cross_level(a.given, b.surname)] += 1
            side["CROSS"][cross_level(a.surname, b.given)] += 1
            side["ORGANIZATION"][org_level(a, b)] += 1
            side["DOMAIN"][domain_level(a, b)] += 1
    return ms, u, matches, pairs


def weights_from(ms, u, matches: int, pairs: int):
    """log2(m/u) per level, m averaged over the sources that observe the comparison (SOURCE_SHARE: FEBRL's many
    typo pairs would otherwise drown the labelled set's nicknames and initials)."""
    from registry.dedup.levels import DOMAIN_LEVELS, NAME_LEVELS, ORG_LEVELS

    levels = {"GIVEN": NAME_LEVELS, "SURNAME": NAME_LEVELS, "CROSS": NAME_LEVELS, "ORGANIZATION": ORG_LEVELS,
              "DOMAIN": DOMAIN_LEVELS}  # fmt: skip
    out, table, tf_u = {}, [], []
    for comparison, names in levels.items():
        observed = [i for i, n in enumerate(names) if n not in FIXED]
        u_total = sum(u[comparison][i] for i in observed)
        shares = []
        for share, m in zip(SOURCE_SHARE, ms, strict=True):
            total = sum(m[comparison][i] for i in observed)
            if total:
                shares.append((share, {i: (m[comparison][i] + 0.5) / (total + 0.5 * len(observed)) for i in observed}))
        row = []
        for i, name in enumerate(names):
            if name in FIXED:
                row.append(FIXED[name])
                continue
            pm = sum(share * dist[i] for share, dist in shares) / sum(share for share, _ in shares)
            pu = (u[comparison][i] + 0.5) / (u_total + 0.5 * len(observed))
            row.append(round(100 * math.log2(pm / pu)))
            table.append(f"{comparison:12} {name:18} m {pm:.4f}  u {pu:.5f}  weight {row[-1] / 100:+.2f}")
        # Agreement short of exact never weighs more than exact (FEBRL's typos make one-edit surnames rarer among
        # random pairs than equal ones, which would otherwise rank a typo above the very same name).
        out[comparison] = tuple(w if name in FIXED or i == 0 else min(w, row[0]) for i, (w, name) in
                                enumerate(zip(row, names, strict=True)))  # fmt: skip
        if comparison in ("GIVEN", "SURNAME", "ORGANIZATION"):
            tf_u.append(round((u[comparison][0] + 0.5) / (u_total + 0.5 * len(observed)), 6))
    out["TF_U"] = tuple(tf_u)
    prior = round(100 * math.log2(matches / (pairs - matches)))
    return out, prior, table


def sweep(tasks: dict, weights) -> list[tuple[int, dict]]:
    """Precision and recall of each validation set at every threshold from -5 to +25 bits."""
    from registry.dedup.levels import Frequencies, pair_levels, pair_weight
    from registry.duplicate_matching import blocked_pairs

    totals = {}
    for name, (people, truth) in tasks.items():
        by_id = {p.id: p for p in people}
        freq = Frequencies(people)
        totals[name] = [
            (
                pair_weight(pair_levels(by_id[a], by_id[b], weights, freq), weights)
                + (weights.EMAIL if by_id[a].email_keys & by_id[b].email_keys else 0),
                (a, b) in truth,
            )
            for a, b in blocked_pairs(people)
        ]
        totals[name + "#true"] = len(truth)
    rows = []
    for threshold in range(-500, 2500, 25):
        figures = {}
        for name in tasks:
            hits = sum(1 for w, t in totals[name] if t and w >= threshold)
            found = sum(1 for w, _t in totals[name] if w >= threshold)
            p = hits / found if found else 1.0
            r = hits / totals[name + "#true"]
            figures[name] = (p, r, 2 * p * r / (p + r) if p + r else 0.0)
        rows.append((threshold, figures))
    return rows


def pick(rows) -> tuple[int, float]:
    """Highest summed F1 with every validation set's precision at or above MIN_PRECISION."""

    def ok(figures):
        return all(p >= MIN_PRECISION[name] for name, (p, _r, _f) in figures.items())

    feasible = [(sum(f for _p, _r, f in figures.values()), t) for t, figures in rows if ok(figures)]
    if not feasible:
        feasible = [(sum(f for _p, _r, f in figures.values()), t) for t, figures in rows]
    value, threshold = max(feasible)
    return threshold, value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dry-run", action="store_true")
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("DEBUG", "1")
    import django

    django.setup()
    from registry.dedup.weights import Weights

    training = [febrl_task("febrl2", "name"), febrl_task("febrl2", "suburb"), labelled_task(101)]
    m, u, matches, pairs = level_counts(training)
    learnt, prior, table = weights_from(m, u, matches, pairs)
    print("\n".join(table))
    print(f"prior {prior / 100:+.2f} bits ({matches} true of {pairs} pairs)")
    validation = {
        "febrl1/name": febrl_task("febrl1", "name"),
        "febrl1/suburb": febrl_task("febrl1", "suburb"),
        "labelled-202": labelled_task(202),
    }
    results = []
    for name_min in NAME_MINS:
        draft = Weights(**learnt, EMAIL=EMAIL, PRIOR=prior, NAME_MIN=name_min, THRESHOLD=0)
        rows = sweep(validation, draft)
        threshold, value = pick(rows)
        print(f"NAME_MIN {name_min / 100:+.2f}: threshold {threshold / 100:+.2f}, summed F1 {value:.3f}")
        results.append((value, name_min, threshold, rows))
    # The largest name floor within 0.01 of the best summed F1: employers support a name match, they never make one.
    top = max(value for value, *_ in results)
    _value, name_min, threshold, rows = max((r for r in results if r[0] >= top - 0.01), key=lambda r: r[1])
    for t, figures in rows:
        if (abs(t - threshold) <= 400 and t % 50 == 0) or t == threshold:
            text = "  ".join(f"{n} P {p:.3f} R {r:.3f} F1 {f:.3f}" for n, (p, r, f) in figures.items())
            print(f"{'*' if t == threshold else ' '} {t / 100:+6.2f}  {text}")
    if args.dry_run:
        return
    text = WEIGHTS_FILE.read_text()
    head = text[: text.index("TRAINED = Weights(")]
    body = ",\n".join(
        f"    {k}={v!r}" for k, v in {**learnt, "EMAIL": EMAIL, "PRIOR": prior, "NAME_MIN": name_min}.items()
    )
    WEIGHTS_FILE.write_text(f"{head}TRAINED = Weights(\n{body},\n    THRESHOLD={threshold},\n)\n")
    print(f"wrote {WEIGHTS_FILE}")


if __name__ == "__main__":
    main()
