"""Training time against table size: the lead model's table at demo and at large scale.

    python -m benchmarks.ml.training_time [--rows 7600 380000]

Synthetic lead-like tables (the columns of features.ml_lead_features) of the sizes the
generator's scales give (demo: about 7,600 training leads; large: about 50 times more),
through ``ml.train.train_classifier`` with both candidates. The demo figure measured on
the real marts is in ml_generated_demo.json; this one isolates training from dbt.
"""

from __future__ import annotations

import argparse
import time

from benchmarks.ml.common import write_result
from ml.models import LEAD
from ml.train import FeatureSpec, train_classifier
from tests.ml.synthetic import lead_table


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, nargs="+", default=[7_600, 380_000])
    args = parser.parse_args()
    spec = FeatureSpec("label", LEAD.numeric, LEAD.categorical, "point_at")
    results = {}
    for rows in args.rows:
        table = lead_table(rows, seed=3)
        started = time.perf_counter()
        model = train_classifier(table, spec=spec)
        seconds = time.perf_counter() - started
        results[str(rows)] = {
            "seconds": round(seconds, 1),
            "algorithm": model.algorithm,
            "validation_auc": model.validation_auc,
            "test_roc_auc": model.test_metrics["roc_auc"],
        }
        print(
            f"{rows:,} rows: trained in {seconds:.1f}s ({model.algorithm}, test AUC {model.test_metrics['roc_auc']})"
        )
    write_result(
        "ml_training_time", {"table": "synthetic lead-like (tests/ml/synthetic.py)", "results": results}
    )


if __name__ == "__main__":
    main()
