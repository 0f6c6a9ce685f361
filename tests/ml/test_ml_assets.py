"""The Dagster ML chain on a feature table with a known signal: train -> evaluate ->
check -> promote -> score, and a blocking check that keeps a worse model out."""

from __future__ import annotations

import json
from pathlib import Path

import dagster as dg
import polars as pl
import pytest

import pipelines.ml.assets as ml_assets
from ml.lifecycle import MODEL_CALIBRATION_COLUMNS, MODEL_METRICS_COLUMNS, evaluation_tables
from ml.models import LEAD
from ml.registry import ModelRegistry
from tests.ml.synthetic import lead_table
from warehouse.connection import warehouse
from warehouse.settings import get_settings

pytestmark = pytest.mark.timeout(600)


@pytest.fixture
def lead_chain(crm360_home: Path, monkeypatch: pytest.MonkeyPatch):
    train = lead_table(2000, seed=11)
    score = lead_table(400, seed=12).drop("label")

    def read_features(table: str, dataset: str) -> pl.DataFrame:
        assert table == LEAD.feature_table
        return train if dataset == "train" else score

    monkeypatch.setattr(ml_assets, "read_features", read_features)
    assets, checks, _ = ml_assets.build_classifier_assets(
        LEAD, "lead_scores", "score", keep=("owner_id", "stage")
    )
    return assets, checks, train


def _run(assets, checks) -> dg.ExecuteInProcessResult:
    return dg.materialize([*assets, *checks], instance=dg.DagsterInstance.ephemeral(), raise_on_error=False)


def _evaluation_tables() -> tuple[pl.DataFrame, pl.DataFrame]:
    with warehouse(read_only=True) as con:
        return (
            con.execute("select * from ml.model_metrics order by model").pl(),
            con.execute("select * from ml.model_calibration order by model, predicted").pl(),
        )


def test_the_chain_promotes_a_first_model_then_keeps_it_from_a_worse_one(lead_chain, monkeypatch) -> None:
    assets, checks, train = lead_chain
    # another model's rows, written earlier: scoring lead_scoring must leave them alone
    other_metrics, other_calibration = evaluation_tables(
        "churn", "churn-v0", {"metrics": {"roc_auc": 0.7, "brier": 0.1, "rows": 10}, "calibration": []}
    )
    ml_assets.write_model_evaluation("churn", other_metrics, other_calibration)
    result = _run(assets, checks)
    assert result.success
    assert all(check.passed for check in result.get_asset_check_evaluations())
    registry = ModelRegistry(get_settings().models_dir)
    production = registry.production("lead_scoring")
    assert production is not None and production.version == registry.latest("lead_scoring").version
    for name in ("model.joblib", "card.json", "evaluation.json", "roc.png", "calibration.png", "gain.png"):
        assert (production.path / name).exists(), name
    assert (production.path / "roc.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    card = production.card
    assert card["features"]["numeric"] == list(LEAD.numeric) and card["training_window"]
    assert len(card["data_hash"]) == 64

    with warehouse(read_only=True) as con:
        scores = con.execute("select * from ml.lead_scores").pl()
    assert len(scores) == 400
    assert {
        "tenant_id",
        "customer_id",
        "lead_id",
        "score",
        "model_version",
        "reasons",
        "scored_at",
        "risk_band",
    } <= set(scores.columns)
    assert scores["model_version"].unique().to_list() == [production.version]
    assert scores["score"].is_between(0, 1).all()
    assert set(scores["risk_band"]) <= {"hot", "warm", "cold"}
    assert (scores["reasons"].list.len() == 3).mean() > 0.9

    # the dashboards' model section: the production version's test metrics and calibration
    metrics, calibration = _evaluation_tables()
    assert metrics.columns == list(MODEL_METRICS_COLUMNS) and "tenant_id" not in metrics.columns
    assert calibration.columns == list(MODEL_CALIBRATION_COLUMNS)
    assert metrics.select("model", "model_version").rows() == [
        ("churn", "churn-v0"),
        ("lead_scoring", production.version),
    ]
    lead = metrics.filter(pl.col("model") == "lead_scoring").row(0, named=True)
    report = json.loads((production.path / "evaluation.json").read_text())
    assert lead["roc_auc"] == report["metrics"]["roc_auc"] > 0.6  # the synthetic table has a signal
    assert 0 < lead["pr_auc"] <= 1 and 0 < lead["brier"] < 0.25 and lead["log_loss"] > 0
    assert 0 < lead["base_rate"] < 1 and 0 < lead["positives"] < lead["rows"]
    curve = calibration.filter(pl.col("model") == "lead_scoring")
    assert curve["model_version"].unique().to_list() == [production.version]
    assert 5 <= len(curve) <= 10 and curve["rows"].sum() == lead["rows"]
    assert curve["predicted"].is_between(0, 1).all() and curve["observed"].is_between(0, 1).all()
    assert curve["predicted"].is_sorted()
    # calibrated: the observed rate follows the predicted probability
    assert curve["observed"][-1] > curve["observed"][0]
    assert (curve["predicted"] - curve["observed"]).abs().mean() < 0.15
    assert calibration.filter(pl.col("model") == "churn").is_empty()

    # the next week: a failing blocking check keeps the production model
    _a_broken_feed_is_not_promoted(assets, checks, train, monkeypatch)
    metrics, calibration = _evaluation_tables()
    assert metrics.filter(pl.col("model") == "lead_scoring")["model_version"].to_list() == [
        production.version
    ]
    assert set(calibration["model_version"]) == {production.version}


def test_scoring_without_a_production_model_succeeds_and_writes_nothing(lead_chain) -> None:
    """refresh_job and ml_score_job score with the production model; before the first training
    they must not fail (the refresh still publishes), and they leave the score tables alone."""
    assets, _, _ = lead_chain
    value_assets, _, value_key = ml_assets.build_customer_value_assets()
    selection = [dg.AssetKey(["ml", "lead_scores"]), value_key]
    with dg.DagsterInstance.ephemeral() as instance:
        result = dg.materialize([*assets, *value_assets], selection=selection, instance=instance)
    assert result.success
    events = result.get_asset_materialization_events()
    assert {e.asset_key for e in events} == set(selection)
    for event in events:
        metadata = event.materialization.metadata
        assert metadata["model_version"].value == "none" and "no " in metadata["skipped"].value
    settings = get_settings()
    if settings.warehouse_path.exists():
        with warehouse(read_only=True) as con:
            tables = {
                r[0] for r in con.execute("select table_name from information_schema.tables").fetchall()
            }
        assert not tables & {"lead_scores", "customer_value", "model_metrics", "model_calibration"}


def _a_broken_feed_is_not_promoted(
    assets, checks, train: pl.DataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    registry = ModelRegistry(get_settings().models_dir)
    incumbent = registry.production("lead_scoring")

    # a broken feed: the older rows' labels are shuffled, so the new model learns noise,
    # while the newest rows, which judge both models, are intact
    old = pl.col("point_at") < train["point_at"].quantile(0.6)
    broken = train.with_columns(
        label=pl.when(old).then(pl.col("label").shuffle(seed=1)).otherwise(pl.col("label"))
    )
    score = lead_table(400, seed=12).drop("label")
    monkeypatch.setattr(
        ml_assets, "read_features", lambda table, dataset: broken if dataset == "train" else score
    )

    result = _run(assets, checks)
    assert [e.passed for e in result.get_asset_check_evaluations()] == [False]
    assert registry.production("lead_scoring").version == incumbent.version
    assert registry.latest("lead_scoring").version != incumbent.version
    materialized = {e.asset_key for e in result.get_asset_materialization_events()}
    assert dg.AssetKey(["ml", "lead_scoring_production"]) not in materialized
    report = json.loads((registry.latest("lead_scoring").path / "evaluation.json").read_text())
    comparison = report["comparison"]
    assert not report["passed"] and not comparison["roc_auc"]["ok"]
    assert comparison["roc_auc"]["candidate"] < comparison["roc_auc"]["production"] - 0.05
