"""Deterministic alone vs deterministic + probabilistic, on generated data with ground truth.

    python -m benchmarks.identity.probabilistic [--scale demo] [--seed 42] [--workdir DIR]

1. ``dbt build`` of the generated data set (a plain build: the probabilistic source does
   not exist yet, so this is the deterministic stage alone), scored against the truth with
   benchmarks/identity_deterministic.py's evaluation (pairwise precision / recall / F1).
2. The probabilistic stage (ml/identity, as the Dagster asset runs it: train, score,
   decide), then ``dbt build -s int_identity_probabilistic_edges+`` (the graph, ids, merge
   log and marts again), scored the same way.
Reports the share of the pairs deterministic matching missed that the probabilistic stage
recovers. Writes benchmarks/results/identity_probabilistic_<scale>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parent.parent / "results"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", default="demo")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--workdir", type=Path, default=None)
    args = parser.parse_args(argv)

    from benchmarks.dbt_build import prepare_workdir, run_dbt_build
    from benchmarks.identity_deterministic import score_warehouse
    from ml.identity.stage import run_probabilistic_stage
    from pipelines.identity.assets import stage_config
    from warehouse.connection import warehouse

    workdir = args.workdir or Path(__file__).resolve().parent.parent / "work" / f"identity-prob-{args.scale}"
    load_start = os.getloadavg()
    settings = prepare_workdir(workdir, args.scale, args.seed)
    deterministic_seconds = run_dbt_build(workdir)
    with warehouse(read_only=True, settings=settings) as con:
        deterministic = score_warehouse(con, settings.ground_truth_dir)

    config = stage_config()
    started = time.perf_counter()
    with warehouse(settings=settings) as con:
        stage = run_probabilistic_stage(con, config)
    stage_seconds = time.perf_counter() - started
    rebuild_seconds = run_dbt_build(workdir, "-s", "int_identity_probabilistic_edges+")
    with warehouse(read_only=True, settings=settings) as con:
        combined = score_warehouse(con, settings.ground_truth_dir)
        merges = con.execute(
            "select count(*) from marts.customer_merges where rule like '%probabilistic%'"
        ).fetchone()[0]

    def recovered(key: str) -> float:
        before, after = deterministic[key]["recall"], combined[key]["recall"]
        return round((after - before) / (1 - before), 4) if before < 1 else 0.0

    result = {
        "benchmark": "identity_probabilistic",
        "scale": args.scale,
        "seed": args.seed,
        "machine": f"{platform.machine()} {platform.system()}, {os.cpu_count()} cpus (shared)",
        "load_average_at_start": [round(x, 2) for x in load_start],
        "thresholds": {"accept": config.accept_threshold, "review": config.review_threshold},
        "max_cluster_records": config.max_cluster_records,
        "deterministic": deterministic,
        "deterministic_plus_probabilistic": combined,
        "missed_recall_recovered": {
            key: recovered(key) for key in ("person_records", "all_person_related_records")
        },
        "probabilistic_stage": {
            "seconds": round(stage_seconds, 1),
            "model_version": stage.model_version,
            "records": stage.records,
            "pairs_scored": stage.pairs_scored,
            "pairs_by_status": stage.statuses,
            "step_seconds": stage.seconds,
            "merges_logged": merges,
        },
        "dbt_build_seconds": round(deterministic_seconds, 1),
        "dbt_rebuild_after_stage_seconds": round(rebuild_seconds, 1),
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"identity_probabilistic_{args.scale}.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
