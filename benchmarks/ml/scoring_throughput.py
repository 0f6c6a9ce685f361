"""Scoring throughput: 1,000,000 customers through the production scoring path.

    python -m benchmarks.ml.scoring_throughput [--rows 1000000]

A lead-like synthetic feature table (tests/ml/synthetic.py's generator: the same columns
as features.ml_lead_features) trains a model with the platform's code on 20,000 rows;
then 1,000,000 rows are scored by ``ml.scoring.score_frame``: calibrated probability,
risk band and the top 3 reasons in words (each distinct feature row is explained once).
Timed separately: the probabilities alone, and the whole path. Both model kinds are measured.
"""

from __future__ import annotations

import argparse
import time
from datetime import UTC, datetime

import numpy as np
import polars as pl

from benchmarks.ml.common import write_result
from ml.models import LEAD
from ml.scoring import score_frame
from ml.train import FeatureSpec, train_classifier
from tests.ml.synthetic import lead_table


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    spec = FeatureSpec("label", LEAD.numeric, LEAD.categorical, "point_at")
    train = lead_table(20_000, seed=1)
    started = time.perf_counter()
    rows = pl.concat(
        [lead_table(100_000, seed=100 + i).drop("label", "true_p") for i in range(-(-args.rows // 100_000))]
    ).head(args.rows)
    print(f"{len(rows):,} rows generated in {time.perf_counter() - started:.1f}s")
    distinct = rows.select(spec.features).n_unique()
    print(f"{distinct:,} distinct feature rows")
    # worst case for the reasons: every row distinct (a continuous jitter on one count)
    jittered = rows.with_columns(
        pl.col("web_events") + pl.Series(np.random.default_rng(0).random(len(rows)) * 1e-3)
    )
    results = {}
    for kind, frame in (
        ("logistic_regression", rows),
        ("gradient_boosting", rows),
        ("logistic_regression, every row distinct", jittered),
        ("gradient_boosting, every row distinct", jittered),
    ):
        model = train_classifier(train, spec=spec, candidates=(kind.split(",")[0],))
        timings = {}
        started = time.perf_counter()
        model.predict_proba(frame)
        timings["probability_seconds"] = time.perf_counter() - started
        started = time.perf_counter()
        scored = score_frame(LEAD, model, "bench", frame, datetime.now(UTC))
        timings["full_path_seconds"] = time.perf_counter() - started
        assert len(scored) == len(frame) and scored["reasons"].list.len().min() >= 1
        results[kind] = {
            **{k: round(v, 2) for k, v in timings.items()},
            "rows_per_second_full_path": round(len(rows) / timings["full_path_seconds"]),
            "rows_per_second_probability_only": round(len(rows) / timings["probability_seconds"]),
        }
        print(
            f"{kind}: {len(rows):,} rows scored with reasons in {timings['full_path_seconds']:.1f}s "
            f"({results[kind]['rows_per_second_full_path']:,}/s); probabilities alone "
            f"{timings['probability_seconds']:.1f}s"
        )
    write_result(
        "ml_scoring_throughput",
        {
            "rows": len(rows),
            "distinct_feature_rows": distinct,
            "features": len(spec.features),
            "reasons_per_row": 3,
            "threads": 1,
            "models": results,
        },
    )


if __name__ == "__main__":
    main()
