"""Scores for the serving tables: calibrated probability, risk band, top reasons, version."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import numpy as np
import polars as pl

from ml.clv import BgNbd, GammaGamma, customer_value
from ml.explain import top_reasons
from ml.models import ModelDefinition
from ml.train import TrainedModel


def score_frame(
    definition: ModelDefinition,
    model: TrainedModel,
    model_version: str,
    frame: pl.DataFrame,
    scored_at: datetime,
    *,
    keep: tuple[str, ...] = (),
    probability_column: str = "score",
) -> pl.DataFrame:
    """One row per input row: ids, ``keep`` columns, probability, band, reasons, version, time."""
    if frame.is_empty():
        probability = np.zeros(0)
        reasons = pl.Series("reasons", [], dtype=pl.List(pl.String))
    else:
        # feature tables repeat themselves (counts, categories): score each distinct row once
        features = list(model.spec.features)
        distinct = frame.select(features).unique(maintain_order=True).with_row_index("_distinct")
        index = frame.select(features).join(
            distinct, on=features, how="left", nulls_equal=True, maintain_order="left"
        )["_distinct"]
        if index.null_count():
            raise ValueError("feature rows that match no distinct row (NaN in a feature?)")
        index = index.to_numpy()
        probability = model.predict_proba(distinct)[index]
        distinct_reasons = top_reasons(model, distinct, definition.phrases)
        reasons = pl.Series("reasons", distinct_reasons, dtype=pl.List(pl.String)).gather(index)
    bounds = [bound for bound, _ in definition.bands]
    names = [band for _, band in definition.bands]
    # bands are listed highest first and the last starts at 0: the first bound reached
    band_index = np.argmax(probability[:, None] >= np.array(bounds)[None, :], axis=1)
    columns = [c for c in dict.fromkeys((*definition.id_columns, *keep)) if c in frame.columns]
    return frame.select(columns).with_columns(
        pl.Series(probability_column, np.round(probability, 6), dtype=pl.Float64),
        pl.Series("risk_band", [names[i] for i in band_index], dtype=pl.String),
        reasons,
        pl.lit(model_version).alias("model_version"),
        pl.lit(scored_at).cast(pl.Datetime("us", "UTC")).alias("scored_at"),
    )


def per_customer(scores: pl.DataFrame, probability_column: str) -> pl.DataFrame:
    """The riskiest row of each customer (a customer may hold several subscriptions)."""
    return (
        scores.filter(pl.col("customer_id").is_not_null())
        .sort(probability_column, descending=True)
        .unique(["tenant_id", "customer_id"], keep="first", maintain_order=True)
    )


VALUE_BANDS = ((0.8, "top 20%"), (0.5, "middle 30%"), (0.0, "bottom 50%"))


def score_customer_value(
    summaries: pl.DataFrame,
    params: dict[str, Any],
    model_version: str,
    scored_at: datetime,
    horizon_days: float = 365.0,
) -> pl.DataFrame:
    """Expected purchases and spend in the next ``horizon_days`` per customer, with reasons."""
    bgnbd, gamma_gamma = BgNbd(**params["bgnbd"]), GammaGamma(**params["gamma_gamma"])
    value = customer_value(summaries.rename({"t": "T"}), bgnbd, gamma_gamma, horizon_days)
    rank = value["expected_value"].rank("average") / max(len(value), 1)
    reasons = [
        _value_reasons(x, rec, T, m, alive)
        for x, rec, T, m, alive in value.select(
            "frequency", "recency", "T", "monetary", "p_alive"
        ).iter_rows()
    ]
    band = pl.when(rank >= VALUE_BANDS[0][0]).then(pl.lit(VALUE_BANDS[0][1]))
    band = (
        band.when(rank >= VALUE_BANDS[1][0])
        .then(pl.lit(VALUE_BANDS[1][1]))
        .otherwise(pl.lit(VALUE_BANDS[2][1]))
    )
    return value.select(
        "tenant_id",
        "customer_id",
        pl.col("expected_value").round(2).alias("predicted_value"),
        pl.col("expected_purchases").round(3).alias("expected_purchases_12m"),
        pl.col("expected_order_value").round(2),
        pl.col("p_alive").round(4),
        band.alias("risk_band"),
        pl.Series("reasons", reasons, dtype=pl.List(pl.String)),
        pl.lit(model_version).alias("model_version"),
        pl.lit(scored_at).cast(pl.Datetime("us", "UTC")).alias("scored_at"),
    )


def _value_reasons(x: float, recency: float, T: float, monetary: float, alive: float) -> list[str]:
    reasons = []
    if x == 0:
        reasons.append("Has bought only once so far")
    else:
        reasons.append(f"Bought again on {x:.0f} more days after the first order")
    idle = T - recency
    reasons.append(
        f"Last order {idle:.0f} days ago"
        + (" (likely still active)" if alive >= 0.5 else " (may have lapsed)")
    )
    if x > 0:
        reasons.append(f"Spends {monetary:,.0f} per repeat order on average")
    return reasons
