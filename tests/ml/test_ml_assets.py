"""The Dagster ML chain on a feature table with a known signal: train -> evaluate ->
check -> promote -> score, and a blocking check that keeps a worse model out."""

from __future__ import annotations

import json
from pathlib import Path

import dagster as dg
import polars as pl
import pytest

import pipelines.ml.assets as ml_assets
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


def test_the_chain_promotes_a_first_model_then_keeps_it_from_a_worse_one(lead_chain, monkeypatch) -> None:
    assets, checks, train = lead_chain
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

    # the next week: a failing blocking check keeps the production model
    _a_broken_feed_is_not_promoted(assets, checks, train, monkeypatch)


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
