"""Pairwise precision, recall and F1 of the deterministic identity clusters vs ground truth.

    python -m benchmarks.identity_deterministic [--scale demo] [--seed 42] [--workdir DIR]

Generates the data set (unless the work dir already holds it), loads it, builds the dbt
project, then compares the customer each record and event resolved to with the
generator's true person. A pair of items is a true positive when both resolve to the same
customer and are the same person; precision = TP / pairs put together, recall = TP /
pairs that belong together. Scored over person records (contacts, leads and the activity
records the truth ties to a person) and, separately, over events. Writes
benchmarks/results/identity_deterministic.json.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import duckdb

RESULTS = Path(__file__).resolve().parent / "results"


def pairwise_scores(con: duckdb.DuckDBPyConnection, items: str) -> dict[str, float | int]:
    """Scores of ``items``: a relation with columns tenant_id, predicted, actual (ids).

    Items without a prediction count as singletons (they are paired with nothing).
    """
    row = con.execute(
        f"""
        with items as (
            select tenant_id, coalesce(predicted, 'unresolved:' || row_number() over ()) as predicted, actual
            from ({items}) where actual is not null
        ),
        pred as (select count(*) as n from items group by tenant_id, predicted),
        act as (select count(*) as n from items group by tenant_id, actual),
        both_ as (select count(*) as n from items group by tenant_id, predicted, actual)
        select
            (select count(*) from items),
            (select coalesce(sum(n * (n - 1) / 2), 0) from pred),
            (select coalesce(sum(n * (n - 1) / 2), 0) from act),
            (select coalesce(sum(n * (n - 1) / 2), 0) from both_),
            (select count(distinct (tenant_id, predicted)) from items),
            (select count(distinct (tenant_id, actual)) from items)
        """
    ).fetchone()
    n_items, predicted_pairs, true_pairs, tp, clusters, people = (int(v) for v in row)
    precision = tp / predicted_pairs if predicted_pairs else 1.0
    recall = tp / true_pairs if true_pairs else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "items": n_items,
        "clusters": clusters,
        "true_people": people,
        "predicted_pairs": predicted_pairs,
        "true_pairs": true_pairs,
        "true_positive_pairs": tp,
        "precision": round(precision, 4),
        "recall": round(recall, 4),
        "f1": round(f1, 4),
    }


def score_warehouse(con: duckdb.DuckDBPyConnection, truth_dir: Path) -> dict[str, dict]:
    """Score the built warehouse (``con`` attached as the current database) against truth."""
    records = str(truth_dir / "records.parquet").replace("'", "''")
    events = str(truth_dir / "events.parquet").replace("'", "''")
    record_items = f"""
        select truth.tenant_id, resolved.customer_id as predicted, truth.person_id as actual
        from read_parquet('{records}') as truth
        left join intermediate.int_identity_records_resolved as resolved
            on truth.tenant_id = resolved.tenant_id and truth.entity = resolved.entity
            and truth.source_system = resolved.source_system and truth.record_id = resolved.record_id
    """
    person_record_items = record_items + " where truth.entity in ('contacts', 'leads')"
    event_items = f"""
        select truth.tenant_id, events.customer_id as predicted, truth.person_id as actual
        from read_parquet('{events}') as truth
        left join marts.fct_events as events
            on truth.tenant_id = events.tenant_id and truth.message_id = events.message_id
    """
    return {
        "person_records": pairwise_scores(con, person_record_items),
        "all_person_related_records": pairwise_scores(con, record_items),
        "events": pairwise_scores(con, event_items),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", default="demo")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--workdir", type=Path, default=None)
    args = parser.parse_args(argv)

    from benchmarks.dbt_build import prepare_workdir, run_dbt_build
    from warehouse.connection import warehouse

    workdir = args.workdir or Path(__file__).resolve().parent / "work" / f"identity-{args.scale}"
    settings = prepare_workdir(workdir, args.scale, args.seed)
    seconds = run_dbt_build(workdir)
    with warehouse(read_only=True, settings=settings) as con:
        scores = score_warehouse(con, settings.ground_truth_dir)
        guards = dict(
            con.execute(
                "select reason, count(*) from marts.identity_blocked_identifiers group by reason"
            ).fetchall()
        )
    result = {
        "benchmark": "identity_deterministic",
        "scale": args.scale,
        "seed": args.seed,
        "machine": f"{platform.machine()} {platform.system()}, {__import__('os').cpu_count()} cpus",
        "dbt_build_seconds": round(seconds, 1),
        "blocked_identifiers": guards,
        **scores,
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"identity_deterministic_{args.scale}.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
