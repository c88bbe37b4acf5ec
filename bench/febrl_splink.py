"""Splink 5 (DuckDB backend) on the FEBRL records of bench/febrl_data.py: the off-the-shelf baseline.

Run by `python -m bench.febrl --splink` in its own virtualenv (bench/requirements-quality.txt); prints one JSON line.
Settings, written down (also in bench/README.md): dedupe_only; comparisons NameComparison on given name and surname
(exact, Jaro-Winkler ≥ 0.92 / 0.88 / 0.70, else), in the suburb variant JaroWinklerAtThresholds on suburb
(0.9 / 0.7); blocking for predictions on given name, surname, the first three letters of each, and suburb; training as
Splink's tutorial does it: the prior from a deterministic rule (same given name and surname, recall 0.7), u by random
sampling (1e6 pairs, seed 1), m by EM blocked on given name then on surname; match probability ≥ 0.5 is a match.
"""

import json
import sys
import time

sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parent))

import pandas as pd
import splink.comparison_library as cl
from febrl_data import febrl_records, scores, set_label, true_pairs
from splink import DuckDBAPI, Linker, SettingsCreator, block_on


def splink_pairs(frame: pd.DataFrame, variant: str) -> set[tuple[int, int]]:
    comparisons = [cl.NameComparison("given_name"), cl.NameComparison("surname")]
    rules = [
        block_on("given_name"),
        block_on("surname"),
        block_on("substr(given_name, 1, 3)", "substr(surname, 1, 3)"),
    ]
    if variant == "suburb":
        comparisons.append(cl.JaroWinklerAtThresholds("suburb", [0.9, 0.7]))
        rules.append(block_on("suburb"))
    settings = SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="unique_id",
        comparisons=comparisons,
        blocking_rules_to_generate_predictions=rules,
        retain_intermediate_calculation_columns=False,
    )
    db_api = DuckDBAPI()
    linker = Linker(db_api.register(frame), settings, log_level="ERROR")
    linker.training.estimate_probability_two_random_records_match([block_on("given_name", "surname")], recall=0.7)
    linker.training.estimate_u_using_random_sampling(max_pairs=1e6, seed=1)
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("given_name"))
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("surname"))
    predictions = linker.inference.predict(threshold_match_probability=0.5).as_pandas_dataframe()
    pairs = zip(predictions["unique_id_l"], predictions["unique_id_r"], strict=True)
    return {(min(int(a), int(b)), max(int(a), int(b))) for a, b in pairs}


def time_on_csv(path: str) -> None:
    """Seconds Splink takes (training and prediction, suburb variant) on records of a CSV (P6: unique_id,
    given_name, surname, suburb), and how many pairs it proposes; one JSON line."""
    frame = pd.read_csv(path, dtype={"given_name": str, "surname": str, "suburb": str}, keep_default_na=False)
    frame = frame.replace("", None)
    started = time.perf_counter()
    found = splink_pairs(frame, "suburb")
    print(json.dumps({"seconds": round(time.perf_counter() - started, 2), "pairs": len(found), "records": len(frame)}))


def main() -> None:
    if sys.argv[1] == "--csv":
        time_on_csv(sys.argv[2])
        return
    sets, variants = sys.argv[1].split(","), sys.argv[2].split(",")
    results = {}
    for name in sets:
        records = febrl_records(name)
        truth = true_pairs(records)
        frame = pd.DataFrame(
            {
                "unique_id": [r.id for r in records],
                "given_name": [r.given or None for r in records],
                "surname": [r.surname or None for r in records],
                "suburb": [r.suburb or None for r in records],
            }
        )
        for variant in variants:
            started = time.perf_counter()
            found = splink_pairs(frame, variant)
            key = f"{set_label(name)}/{variant}"
            results[key] = {**scores(found, truth), "seconds": round(time.perf_counter() - started, 2)}
            print(name, variant, results[key], file=sys.stderr, flush=True)
    print(json.dumps(results))


if __name__ == "__main__":
    main()
