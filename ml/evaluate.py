"""Evaluation of probability scores: discrimination, calibration, lift and gain by decile."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.metrics import average_precision_score, brier_score_loss, log_loss, roc_auc_score, roc_curve


def classification_metrics(y: np.ndarray, p: np.ndarray) -> dict[str, Any]:
    """ROC AUC, PR AUC, Brier score and log loss (None where one class only)."""
    y, p = np.asarray(y).astype(int), np.clip(np.asarray(p, dtype=float), 1e-9, 1 - 1e-9)
    both = len(np.unique(y)) == 2
    return {
        "rows": len(y),
        "positives": int(y.sum()),
        "base_rate": round(float(y.mean()), 4) if len(y) else None,
        "roc_auc": round(float(roc_auc_score(y, p)), 4) if both else None,
        "pr_auc": round(float(average_precision_score(y, p)), 4) if both else None,
        "brier": round(float(brier_score_loss(y, p)), 4) if len(y) else None,
        "log_loss": round(float(log_loss(y, p, labels=[0, 1])), 4) if len(y) else None,
    }


def calibration_table(y: np.ndarray, p: np.ndarray, bins: int = 10) -> list[dict[str, float]]:
    """Mean predicted vs observed rate in equal-count bins of the prediction."""
    y, p = np.asarray(y).astype(int), np.asarray(p, dtype=float)
    order = np.argsort(p, kind="stable")
    rows = []
    for chunk in np.array_split(order, min(bins, max(len(p), 1))):
        if len(chunk):
            rows.append(
                {
                    "predicted": round(float(p[chunk].mean()), 4),
                    "observed": round(float(y[chunk].mean()), 4),
                    "rows": len(chunk),
                }
            )
    return rows


def decile_table(y: np.ndarray, p: np.ndarray) -> list[dict[str, float]]:
    """Deciles of score, highest first: rate, lift over the base rate, cumulative gain."""
    y, p = np.asarray(y).astype(int), np.asarray(p, dtype=float)
    order = np.argsort(-p, kind="stable")
    base = y.mean() if len(y) else 0.0
    total = max(int(y.sum()), 1)
    rows, captured = [], 0
    for decile, chunk in enumerate(np.array_split(order, 10), start=1):
        if not len(chunk):
            continue
        positives = int(y[chunk].sum())
        captured += positives
        rate = positives / len(chunk)
        rows.append(
            {
                "decile": decile,
                "rows": len(chunk),
                "positives": positives,
                "rate": round(rate, 4),
                "lift": round(rate / base, 3) if base else None,
                "cumulative_gain": round(captured / total, 4),
            }
        )
    return rows


def roc_points(y: np.ndarray, p: np.ndarray, points: int = 101) -> list[tuple[float, float]]:
    if len(np.unique(y)) < 2:
        return [(0.0, 0.0), (1.0, 1.0)]
    fpr, tpr, _ = roc_curve(y, p)
    grid = np.linspace(0, 1, points)
    return list(zip(grid.tolist(), np.interp(grid, fpr, tpr).tolist(), strict=True))


def evaluation_report(y: np.ndarray, p: np.ndarray) -> dict[str, Any]:
    """Everything the report shows for one set of predictions."""
    return {
        "metrics": classification_metrics(y, p),
        "calibration": calibration_table(y, p),
        "deciles": decile_table(y, p),
        "roc": roc_points(y, p),
    }


def compare_with_production(
    candidate: dict[str, Any], production: dict[str, Any] | None, tolerance: float
) -> dict[str, Any]:
    """Is the candidate not worse than production, on the same rows, beyond ``tolerance``?

    Judged on ROC AUC (ranking, what reps act on) and Brier score (calibration); with no
    production model any candidate passes.
    """
    if production is None:
        return {"passed": True, "reason": "no production model yet"}
    auc_c, auc_p = candidate.get("roc_auc"), production.get("roc_auc")
    brier_c, brier_p = candidate.get("brier"), production.get("brier")
    auc_ok = auc_c is None or auc_p is None or auc_c >= auc_p - tolerance
    brier_ok = brier_c is None or brier_p is None or brier_c <= brier_p + tolerance
    return {
        "passed": bool(auc_ok and brier_ok),
        "roc_auc": {"candidate": auc_c, "production": auc_p, "ok": bool(auc_ok)},
        "brier": {"candidate": brier_c, "production": brier_p, "ok": bool(brier_ok)},
        "tolerance": tolerance,
    }
