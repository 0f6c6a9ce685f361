"""Feature profiles of the training rows, and drift against them (population stability index).

PSI = sum over bins of (current - reference) * ln(current / reference); the usual reading
is < 0.1 stable, 0.1-0.25 some shift, > 0.25 a shift worth a look before trusting the model.
Bins are the training deciles for numeric features (missing values a bin of their own)
and the training values for categorical ones (unseen values a bin of their own).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl

if TYPE_CHECKING:
    from ml.train import FeatureSpec

EPSILON = 1e-4
MIN_ROWS = 200  # fewer rows than this on either side: PSI is mostly noise, not computed


def reference_profile(frame: pl.DataFrame, spec: FeatureSpec) -> dict[str, Any]:
    """Bins, proportions and a typical value (median or mode) for every feature."""
    profile: dict[str, Any] = {"rows": len(frame), "numeric": {}, "categorical": {}}
    for name in spec.numeric:
        values = frame[name].cast(pl.Float64).to_numpy()
        known = values[~np.isnan(values)]
        edges = np.unique(np.quantile(known, np.linspace(0.1, 0.9, 9))) if len(known) else np.array([])
        profile["numeric"][name] = {
            "edges": edges.tolist(),
            "proportions": _numeric_proportions(values, edges).tolist(),
            "median": float(np.median(known)) if len(known) else 0.0,
            "p10": float(np.quantile(known, 0.1)) if len(known) else 0.0,
            "p90": float(np.quantile(known, 0.9)) if len(known) else 0.0,
        }
    for name in spec.categorical:
        counts = frame[name].cast(pl.String).fill_null("(missing)").value_counts(sort=True)
        total = max(len(frame), 1)
        shares = {str(value): count / total for value, count in counts.iter_rows()}
        profile["categorical"][name] = {"proportions": shares, "mode": next(iter(shares), None)}
    return profile


def _numeric_proportions(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    missing = np.isnan(values)
    bins = np.searchsorted(edges, values[~missing], side="right")
    counts = np.bincount(bins, minlength=len(edges) + 1).astype(float)
    counts = np.append(counts, missing.sum())
    return counts / max(len(values), 1)


def _psi(reference: np.ndarray, current: np.ndarray) -> float:
    reference, current = np.maximum(reference, EPSILON), np.maximum(current, EPSILON)
    return float(np.sum((current - reference) * np.log(current / reference)))


def feature_drift(reference: dict[str, Any], frame: pl.DataFrame) -> dict[str, Any]:
    """PSI of every feature of ``frame`` against the training profile; None when too few rows."""
    if reference.get("rows", 0) < MIN_ROWS or len(frame) < MIN_ROWS:
        return {"psi": {}, "max_psi": None, "note": f"fewer than {MIN_ROWS} rows: drift not measured"}
    psi: dict[str, float] = {}
    for name, info in reference["numeric"].items():
        if name in frame.columns:
            values = frame[name].cast(pl.Float64).to_numpy()
            current = _numeric_proportions(values, np.asarray(info["edges"]))
            psi[name] = round(_psi(np.asarray(info["proportions"]), current), 4)
    for name, info in reference["categorical"].items():
        if name in frame.columns:
            shares = info["proportions"]
            values = frame[name].cast(pl.String).fill_null("(missing)")
            counts = dict(values.value_counts().iter_rows())
            total = max(len(values), 1)
            known = list(shares)
            current = [counts.get(value, 0) / total for value in known]
            unseen = sum(count for value, count in counts.items() if value not in shares) / total
            psi[name] = round(_psi(np.array([*shares.values(), 0.0]), np.array([*current, unseen])), 4)
    worst = max(psi, key=psi.get) if psi else None
    return {"psi": psi, "max_psi": psi[worst] if worst else None, "worst_feature": worst}
