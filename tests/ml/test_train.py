"""Training, calibration, reasons and drift on tables with a known signal."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from sklearn.metrics import roc_auc_score

from ml.drift import feature_drift
from ml.explain import contributions, top_reasons
from ml.models import LEAD
from ml.train import FeatureSpec, infer_spec, train_classifier
from tests.ml.synthetic import lead_table

SPEC = FeatureSpec(label="label", numeric=LEAD.numeric, categorical=LEAD.categorical, time_column="point_at")


@pytest.fixture(scope="module")
def table() -> pl.DataFrame:
    return lead_table(3000, seed=1)


@pytest.fixture(scope="module")
def model(table: pl.DataFrame):
    return train_classifier(table, spec=SPEC)


def test_time_split_trains_on_the_past_and_tests_on_the_future(model, table: pl.DataFrame) -> None:
    split = model.split
    assert split["method"] == "time"
    rows = split["rows"]
    assert rows["train"] + rows["validation"] + rows["test"] == len(table)
    assert rows["train"] > rows["validation"] > 0 and rows["test"] > 0
    assert model.test_frame["point_at"].min() > table.sort("point_at")["point_at"][rows["train"] - 1]
    assert set(model.validation_auc) == {"logistic_regression", "gradient_boosting"}
    assert model.algorithm == max(model.validation_auc, key=model.validation_auc.get)


def test_model_ranks_nearly_as_well_as_the_true_probabilities(model, table: pl.DataFrame) -> None:
    test = table.filter(pl.col("point_at") >= model.test_frame["point_at"].min())
    ours = roc_auc_score(test["label"], model.predict_proba(test))
    best = roc_auc_score(test["label"], test["true_p"])
    assert ours >= 0.95 * best, (ours, best)


def test_probabilities_are_calibrated(model, table: pl.DataFrame) -> None:
    test = table.filter(pl.col("point_at") >= model.test_frame["point_at"].min())
    p = model.predict_proba(test)
    # on average and by decile of score, close to the truth
    assert abs(p.mean() - test["true_p"].mean()) < 0.03
    order = np.argsort(p)
    for chunk in np.array_split(order, 5):
        assert abs(p[chunk].mean() - test["true_p"].to_numpy()[chunk].mean()) < 0.06
    assert model.test_metrics["brier"] < 0.25


def test_training_takes_any_table_with_a_label_column() -> None:
    # a pandas frame with other names, no time column, a high-cardinality id column
    frame = (
        lead_table(1000, seed=2)
        .rename({"web_events": "visits", "label": "bought"})
        .drop("true_p", "point_at")
    )
    spec = infer_spec(frame.to_pandas(), "bought")
    assert "visits" in spec.numeric and "industry" in spec.categorical
    assert "lead_id" not in spec.features and "customer_id" not in spec.features
    model = train_classifier(frame.to_pandas(), label="bought")
    assert model.split["method"].startswith("random")
    assert model.test_metrics["roc_auc"] > 0.65


def test_a_label_with_one_value_is_refused() -> None:
    frame = lead_table(300, seed=3).with_columns(label=pl.lit(False))
    with pytest.raises(ValueError, match="one value"):
        train_classifier(frame, spec=SPEC)


def test_reasons_name_what_moves_each_score(model, table: pl.DataFrame) -> None:
    rows = table.head(400)
    contrib = contributions(model, rows)
    assert contrib.shape == (len(rows), len(model.spec.features))
    # email clicks matter most where they are far from typical
    clicks = model.spec.features.index("email_clicks")
    busy = rows["email_clicks"].to_numpy() >= 4
    assert busy.any() and (contrib[busy, clicks] > 0).all()
    reasons = top_reasons(model, rows, LEAD.phrases, contrib=contrib)
    assert all(1 <= len(r) <= 3 for r in reasons)
    assert sum(len(r) == 3 for r in reasons) > 0.9 * len(reasons)
    row = int(np.argmax(rows["email_clicks"].to_numpy()))
    assert any("Clicked links in" in sentence for sentence in reasons[row])


def test_drift_is_measured_against_the_training_rows(model) -> None:
    same = lead_table(2000, seed=4)
    shifted = lead_table(2000, seed=5, shift=1.0)
    assert feature_drift(model.reference, same)["max_psi"] < 0.1
    moved = feature_drift(model.reference, shifted)
    assert moved["max_psi"] > 0.25 and moved["worst_feature"] == "web_events"
