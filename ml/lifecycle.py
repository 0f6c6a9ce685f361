"""The steps of a model's life that the pipeline runs: card, evaluation, promotion rule.

Kept out of the Dagster layer so that tests and benchmarks run the same code.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl

from ml import plots
from ml.clv import BgNbd, GammaGamma, fit_bgnbd, fit_gamma_gamma
from ml.drift import feature_drift
from ml.evaluate import compare_with_production, evaluation_report
from ml.train import TrainedModel

# The two warehouse tables the dashboards' "Data and models" page reads (ml.model_metrics,
# ml.model_calibration): column -> polars type. Models are trained across tenants, so no
# tenant_id (aggregates only, shown to every tenant; docs/dashboards.md).
MODEL_METRICS_COLUMNS: dict[str, type[pl.DataType]] = {
    "model": pl.String,
    "model_version": pl.String,
    "roc_auc": pl.Float64,
    "pr_auc": pl.Float64,
    "brier": pl.Float64,
    "log_loss": pl.Float64,
    "base_rate": pl.Float64,
    "positives": pl.Int64,
    "rows": pl.Int64,
}
MODEL_CALIBRATION_COLUMNS: dict[str, type[pl.DataType]] = {
    "model": pl.String,
    "model_version": pl.String,
    "predicted": pl.Float64,
    "observed": pl.Float64,
    "rows": pl.Int64,
}

AUC_TOLERANCE = 0.01  # a candidate may be this much worse than production (noise), no more
MAX_PSI = 0.25  # largest feature drift (PSI) between training rows and the rows to score


def model_card(model: TrainedModel, feature_table: str) -> dict[str, Any]:
    """What the registry records about a trained model."""
    return {
        "kind": "binary_classifier",
        "feature_table": feature_table,
        "algorithm": model.algorithm,
        "params": model.params,
        "features": {"numeric": list(model.spec.numeric), "categorical": list(model.spec.categorical)},
        "label": model.spec.label,
        "split": model.split,
        "training_window": model.split.get("train_window") or model.split.get("window"),
        "validation_auc": model.validation_auc,
        "test_metrics": model.test_metrics,
        "data_hash": model.data_hash,
        "train_seconds": model.train_seconds,
    }


def evaluate_candidate(
    candidate: TrainedModel,
    production: TrainedModel | None,
    rows_to_score: pl.DataFrame,
    *,
    tolerance: float = AUC_TOLERANCE,
    max_psi: float = MAX_PSI,
) -> tuple[dict[str, Any], dict[str, bytes]]:
    """The report (JSON-able) and its PNG plots; ``report["passed"]`` is the promotion rule.

    Both models are judged on the candidate's test rows, which neither has trained on
    (unless production was trained on newer data than these rows, in which case it is
    flattered and the rule errs towards keeping it). Drift compares the candidate's
    training rows with the rows it will score.
    """
    test = candidate.test_frame
    y = test[candidate.spec.label].to_numpy()
    report = evaluation_report(y, candidate.predict_proba(test))
    production_report = None
    if production is not None and set(production.spec.features) <= set(test.columns):
        production_report = evaluation_report(y, production.predict_proba(test))["metrics"]
    comparison = compare_with_production(report["metrics"], production_report, tolerance)
    drift = feature_drift(candidate.reference, rows_to_score)
    drift_ok = drift["max_psi"] is None or drift["max_psi"] <= max_psi
    report |= {
        "production_metrics": production_report,
        "comparison": comparison,
        "drift": drift | {"threshold": max_psi, "passed": drift_ok},
        "passed": bool(comparison["passed"] and drift_ok),
    }
    metrics = report["metrics"]
    images = {
        "roc.png": plots.roc_png(report["roc"], metrics["roc_auc"]),
        "calibration.png": plots.calibration_png(report["calibration"]),
        "gain.png": plots.gain_png(report["deciles"]),
    }
    return report, images


def evaluation_tables(
    name: str, version: str, report: dict[str, Any] | None, card: dict[str, Any] | None = None
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """One model version's rows of ``model_metrics`` (one row) and ``model_calibration`` (one per bin).

    From its evaluation report (``evaluate_candidate``: held-out test rows after the
    training window); without one (a version promoted by hand) the card's test metrics
    and no calibration rows.
    """
    metrics = (report or {}).get("metrics") or (card or {}).get("test_metrics") or {}
    metric_row = {"model": name, "model_version": version} | {
        column: metrics.get(column)
        for column in MODEL_METRICS_COLUMNS
        if column not in ("model", "model_version")
    }
    calibration_rows = [
        {
            "model": name,
            "model_version": version,
            "predicted": b["predicted"],
            "observed": b["observed"],
            "rows": b["rows"],
        }
        for b in (report or {}).get("calibration") or []
    ]
    return (
        pl.DataFrame([metric_row], schema=MODEL_METRICS_COLUMNS),
        pl.DataFrame(calibration_rows, schema=MODEL_CALIBRATION_COLUMNS),
    )


def fit_customer_value(train_rows: pl.DataFrame, horizon_days: float) -> dict[str, Any]:
    """Fit BG/NBD + Gamma-Gamma on summaries as of the cut-off; check on the horizon after it."""
    x, tx, T = (train_rows[c].cast(pl.Float64).to_numpy() for c in ("frequency", "recency", "t"))
    monetary = train_rows["monetary"].cast(pl.Float64).to_numpy()
    bgnbd = fit_bgnbd(x, tx, T)
    gamma_gamma = fit_gamma_gamma(x, monetary)
    predicted = bgnbd.expected_purchases(horizon_days, x, tx, T)
    spend = gamma_gamma.expected_spend(x, monetary)
    actual = train_rows["holdout_purchases"].cast(pl.Float64).to_numpy()
    actual_value = train_rows["holdout_value"].cast(pl.Float64).to_numpy()
    evaluation = {
        "customers": len(train_rows),
        "horizon_days": horizon_days,
        "purchases": _forecast_metrics(predicted, actual),
        "value": _forecast_metrics(predicted * spend, actual_value),
    }
    return {"bgnbd": bgnbd.as_dict(), "gamma_gamma": gamma_gamma.as_dict(), "holdout": evaluation}


def _forecast_metrics(predicted: np.ndarray, actual: np.ndarray) -> dict[str, float | None]:
    both = len(actual) > 1 and np.std(actual) > 0 and np.std(predicted) > 0
    total = float(actual.sum())
    return {
        "predicted_total": round(float(predicted.sum()), 2),
        "actual_total": round(total, 2),
        "total_ratio": round(float(predicted.sum()) / total, 4) if total else None,
        "mae": round(float(np.mean(np.abs(predicted - actual))), 4) if len(actual) else None,
        "correlation": round(float(np.corrcoef(predicted, actual)[0, 1]), 4) if both else None,
    }


def customer_value_is_sound(params: dict[str, Any]) -> tuple[bool, str]:
    """Parameters that describe a population: positive, finite, a mean spend that exists."""
    try:
        bgnbd, gamma_gamma = BgNbd(**params["bgnbd"]), GammaGamma(**params["gamma_gamma"])
    except (KeyError, TypeError) as error:
        return False, f"malformed parameters: {error}"
    values = [*bgnbd.as_dict().values(), *gamma_gamma.as_dict().values()]
    if not all(np.isfinite(v) and v > 0 for v in values):
        return False, "a parameter is not positive and finite"
    if gamma_gamma.q <= 1:
        return False, "Gamma-Gamma q <= 1: the mean spend per order is undefined"
    if bgnbd.a <= 1e-6 or bgnbd.b <= 1e-6:
        return False, "degenerate dropout distribution"
    return True, "parameters are positive and finite, mean spend defined"
