"""ML assets: feature mart -> train -> evaluate (+ blocking check) -> promote -> score.

Per classifier (lead scoring, churn) and for customer value, in group ``ml``:

    features/ml_<x>_features (dbt)
      -> ml/<model>_candidate     train on the rows before the cut-off, register a version
      -> ml/<model>_evaluation    report vs the production model, plots; blocking check
      -> ml/<model>_production    promote the candidate (only if the check passed)
      -> ml/<scores>              score the current rows with the production model, and
                                  write its metrics and calibration to ml.model_metrics /
                                  ml.model_calibration (the dashboards' model section)

Only the score steps run in refresh_job (every ingest) and ml_score_job; the training
chain runs in ml_retrain_job (weekly) and ``crm360 build``. With no production model yet
a score step leaves its table alone and succeeds, so a refresh still publishes.

The steps read the warehouse (read-only) and the score steps write the ``ml`` schema, so
all take the ``warehouse`` pool (DESIGN.md decision 1). The registry lives under the
data directory (``warehouse.settings``: ``models_dir``). Everything else is ml/.

No ``from __future__ import annotations``: Dagster reads the context annotation.
"""

import base64
import functools
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import dagster as dg
import polars as pl

from ml.lifecycle import (
    customer_value_is_sound,
    evaluate_candidate,
    evaluation_tables,
    fit_customer_value,
    model_card,
)
from ml.models import CLASSIFIERS, CUSTOMER_VALUE, CUSTOMER_VALUE_TABLE, ModelDefinition
from ml.registry import ModelRegistry, RegisteredModel
from ml.scoring import per_customer, score_customer_value, score_frame
from ml.train import FeatureSpec, data_hash, train_classifier
from pipelines.pools import WAREHOUSE_POOL
from warehouse.connection import warehouse
from warehouse.settings import get_settings

GROUP = "ml"
# The training chain (candidate, evaluation, production) carries this tag, so jobs that
# only score can leave it out by tag: a selection by tag that matches nothing is valid.
TRAINING_TAGS = {"crm360/ml-stage": "training"}
# The jobs that never train carry SCORING_RUN_TAGS: their dbt build recomputes only the
# feature marts' scoring rows and keeps the training rows of the last retrain, which only
# training reads (the dbt var ml_datasets, dbt_project/macros/ml_datasets.sql).
ML_DATASETS_TAG = "crm360/ml-datasets"
SCORING_RUN_TAGS = {ML_DATASETS_TAG: "score"}

# Every ML asset writes the warehouse (registry rows, score tables): one writer at a time.
training_asset = functools.partial(dg.asset, group_name=GROUP, tags=TRAINING_TAGS, pool=WAREHOUSE_POOL)
scoring_asset = functools.partial(dg.asset, group_name=GROUP, pool=WAREHOUSE_POOL, kinds={"duckdb"})
FEATURES_SCHEMA = "features"
SCORES_SCHEMA = "ml"
HORIZON_DAYS = 90  # the dbt var ml_horizon_days: the customer-value check window
VALUE_HORIZON_DAYS = 365  # customer value is forecast for the next 12 months
METRICS_TABLE = "model_metrics"  # one row per classifier: its production version's test metrics
CALIBRATION_TABLE = "model_calibration"  # its calibration curve, one row per bin


def ml_datasets_vars(run_tags: Mapping[str, str]) -> list[str]:
    """The dbt ``--vars`` that limit the feature marts to the datasets a run's tag names."""
    datasets = run_tags.get(ML_DATASETS_TAG)
    if datasets is None:
        return []
    return ["--vars", json.dumps({"ml_datasets": [d.strip() for d in datasets.split(",")]})]


def registry() -> ModelRegistry:
    return ModelRegistry(get_settings().models_dir)


def read_features(table: str, dataset: str) -> pl.DataFrame:
    with warehouse(read_only=True) as con:
        return con.execute(
            f'select * from {FEATURES_SCHEMA}."{table}" where dataset = ? order by all', [dataset]
        ).pl()


def write_scores(table: str, frame: pl.DataFrame) -> None:
    """Replace ``ml.<table>`` in one transaction: readers see the old scores or the new."""
    with warehouse() as con:
        con.execute(f"create schema if not exists {SCORES_SCHEMA}")
        con.register("scores_frame", frame.to_arrow())
        con.execute("begin")
        con.execute(f'create or replace table {SCORES_SCHEMA}."{table}" as select * from scores_frame')
        con.execute("commit")
        con.unregister("scores_frame")


def write_model_evaluation(name: str, metrics: pl.DataFrame, calibration: pl.DataFrame) -> None:
    """Replace model ``name``'s rows of ``ml.model_metrics`` and ``ml.model_calibration``.

    Other models' rows stay; both tables change in one transaction. A table whose columns
    differ from the frame's (an older layout) is recreated.
    """
    with warehouse() as con:
        con.execute(f"create schema if not exists {SCORES_SCHEMA}")
        con.execute("begin")
        for table, frame in ((METRICS_TABLE, metrics), (CALIBRATION_TABLE, calibration)):
            relation = f'{SCORES_SCHEMA}."{table}"'
            con.register("evaluation_frame", frame.to_arrow())
            existing = [
                row[0]
                for row in con.execute(
                    "select column_name from information_schema.columns "
                    "where table_schema = ? and table_name = ? order by ordinal_position",
                    [SCORES_SCHEMA, table],
                ).fetchall()
            ]
            if existing != frame.columns:
                con.execute(f"create or replace table {relation} as select * from evaluation_frame limit 0")
            con.execute(f"delete from {relation} where model = ?", [name])
            con.execute(f"insert into {relation} select * from evaluation_frame")
            con.unregister("evaluation_frame")
        con.execute("commit")


def publish_production_evaluation(name: str, current: RegisteredModel) -> pl.DataFrame:
    """Write the production version's metrics and calibration (its evaluation.json) to the
    warehouse; returns the metrics row for the asset's metadata."""
    path = current.path / "evaluation.json"
    report = json.loads(path.read_text()) if path.exists() else None
    metrics, calibration = evaluation_tables(name, current.version, report, current.card)
    write_model_evaluation(name, metrics, calibration)
    return metrics


def _no_production_model(name: str, table: str) -> dg.MaterializeResult:
    """First run ever (or a refresh before any training): nothing to score with, and not an
    error: the refresh must still publish. The table is left as it is."""
    message = (
        f"no {name} model in production yet: {SCORES_SCHEMA}.{table} left unchanged "
        "(ml_retrain_job or `crm360 build` trains and promotes one)"
    )
    dg.get_dagster_logger().warning(message)
    return dg.MaterializeResult(metadata={"model_version": "none", "skipped": message})


def _markdown_image(title: str, png: bytes) -> str:
    return f"**{title}**\n\n![{title}](data:image/png;base64,{base64.b64encode(png).decode()})\n"


def _metrics_md(metrics: dict[str, Any], production: dict[str, Any] | None) -> str:
    rows = ["| metric | candidate | production |", "|---|---:|---:|"]
    for name in ("roc_auc", "pr_auc", "brier", "log_loss", "base_rate", "rows"):
        other = production.get(name) if production else None
        rows.append(f"| {name} | {metrics.get(name)} | {'-' if other is None else other} |")
    return "\n".join(rows)


def _deciles_md(deciles: list[dict[str, Any]]) -> str:
    rows = [
        "| decile | rows | positives | rate | lift | cumulative gain |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    rows += [
        f"| {d['decile']} | {d['rows']} | {d['positives']} | {d['rate']} | {d['lift']} | {d['cumulative_gain']} |"
        for d in deciles
    ]
    return "\n".join(rows)


def build_classifier_assets(
    definition: ModelDefinition, score_table: str, probability_column: str, keep: tuple[str, ...] = ()
) -> tuple[list[dg.AssetsDefinition], list[dg.AssetChecksDefinition], dg.AssetKey]:
    name = definition.name
    features_key = dg.AssetKey([FEATURES_SCHEMA, definition.feature_table])
    candidate_key = dg.AssetKey([GROUP, f"{name}_candidate"])
    evaluation_key = dg.AssetKey([GROUP, f"{name}_evaluation"])
    production_key = dg.AssetKey([GROUP, f"{name}_production"])
    scores_key = dg.AssetKey([SCORES_SCHEMA, score_table])
    spec = FeatureSpec(
        label=definition.label,
        numeric=definition.numeric,
        categorical=definition.categorical,
        time_column=definition.time_column,
    )

    @training_asset(
        key=candidate_key,
        deps=[features_key],
        kinds={"scikit-learn"},
        description=(
            f"A new {name} model trained on the {definition.feature_table} rows before the cut-off: "
            "logistic regression vs gradient boosting, the better on validation, calibrated; "
            "registered as a candidate version."
        ),
    )
    def candidate() -> dg.MaterializeResult:
        frame = read_features(definition.feature_table, "train")
        model = train_classifier(frame, spec=spec)
        registered = registry().register(name, model, model_card(model, definition.feature_table))
        test = model.test_metrics
        return dg.MaterializeResult(
            metadata={
                "version": registered.version,
                "algorithm": model.algorithm,
                "validation_roc_auc": dg.MetadataValue.json(model.validation_auc),
                "test_roc_auc": test["roc_auc"],
                "test_pr_auc": test["pr_auc"],
                "test_brier": test["brier"],
                "split": dg.MetadataValue.json(model.split),
                "data_hash": model.data_hash,
                "train_seconds": model.train_seconds,
                "dagster/row_count": len(frame),
                "path": dg.MetadataValue.path(str(registered.path)),
            }
        )

    @training_asset(
        key=evaluation_key,
        deps=[candidate_key],
        kinds={"scikit-learn"},
        description=(
            f"Evaluation of the latest {name} candidate on its held-out test rows: ROC AUC, PR AUC, Brier, "
            "calibration, lift and gain by decile, next to the production model on the same rows; "
            "feature drift against the rows it would score."
        ),
    )
    def evaluation() -> dg.MaterializeResult:
        reg = registry()
        latest = reg.latest(name)
        if latest is None:
            raise dg.Failure(description=f"no {name} candidate in the registry")
        production = reg.production(name)
        production_model = production.load() if production and production.version != latest.version else None
        rows = read_features(definition.feature_table, "score")
        report, images = evaluate_candidate(latest.load(), production_model, rows)
        report["candidate_version"] = latest.version
        report["production_version"] = production.version if production else None
        (latest.path / "evaluation.json").write_text(json.dumps(report, indent=2, default=str))
        for filename, png in images.items():
            (latest.path / filename).write_bytes(png)
        plots = "\n".join(_markdown_image(f.removesuffix(".png"), png) for f, png in images.items())
        return dg.MaterializeResult(
            metadata={
                "candidate_version": latest.version,
                "production_version": report["production_version"] or "none",
                "passed": report["passed"],
                "metrics": dg.MetadataValue.md(_metrics_md(report["metrics"], report["production_metrics"])),
                "deciles": dg.MetadataValue.md(_deciles_md(report["deciles"])),
                "calibration": dg.MetadataValue.json(report["calibration"]),
                "comparison": dg.MetadataValue.json(report["comparison"]),
                "drift": dg.MetadataValue.json(report["drift"]),
                "plots": dg.MetadataValue.md(plots),
                "roc_png": dg.MetadataValue.path(str(latest.path / "roc.png")),
                "calibration_png": dg.MetadataValue.path(str(latest.path / "calibration.png")),
                "gain_png": dg.MetadataValue.path(str(latest.path / "gain.png")),
                "roc_auc": report["metrics"]["roc_auc"],
            }
        )

    @dg.asset_check(
        asset=evaluation_key,
        name="candidate_fit_for_production",
        blocking=True,
        description=(
            "Blocks promotion unless the candidate is not worse than production beyond the tolerance "
            "(ROC AUC and Brier on the same rows) and no feature drifts beyond the PSI threshold."
        ),
    )
    def candidate_fit_for_production() -> dg.AssetCheckResult:
        latest = registry().latest(name)
        path = latest.path / "evaluation.json" if latest else None
        if path is None or not path.exists():
            return dg.AssetCheckResult(passed=False, metadata={"reason": "no evaluated candidate"})
        report = json.loads(path.read_text())
        return dg.AssetCheckResult(
            passed=bool(report["passed"]),
            metadata={
                "candidate_version": latest.version,
                "comparison": dg.MetadataValue.json(report["comparison"]),
                "max_psi": report["drift"].get("max_psi"),
                "worst_feature": str(report["drift"].get("worst_feature")),
            },
        )

    @training_asset(
        key=production_key,
        deps=[evaluation_key],
        description=f"The {name} version in production: the evaluated candidate, promoted once its check passed.",
    )
    def production() -> dg.MaterializeResult:
        reg = registry()
        latest = reg.latest(name)
        path = latest.path / "evaluation.json" if latest else None
        report = json.loads(path.read_text()) if path and path.exists() else None
        if report is None or not report["passed"] or report["candidate_version"] != latest.version:
            raise dg.Failure(
                description=f"not promoting {latest.version if latest else name}: not evaluated or failed"
            )
        current = reg.production(name)
        if current is None or current.version != latest.version:
            reg.promote(name, latest.version, reason=json.dumps(report["comparison"], default=str))
        return dg.MaterializeResult(
            metadata={
                "version": latest.version,
                "previous_version": current.version if current else "none",
                "roc_auc": report["metrics"]["roc_auc"],
            }
        )

    @scoring_asset(
        key=scores_key,
        deps=[production_key, features_key],
        description=(
            f"{score_table}: the production {name} model's calibrated probability for every current "
            f"{definition.entity}, with risk band, top 3 reasons in words, model version and scoring time; "
            f"also the production model's test metrics and calibration curve (rows model = '{name}' of "
            f"{SCORES_SCHEMA}.{METRICS_TABLE} and {SCORES_SCHEMA}.{CALIBRATION_TABLE}). Without a production "
            "model it changes nothing and succeeds."
        ),
    )
    def scores() -> dg.MaterializeResult:
        current = registry().production(name)
        if current is None:
            return _no_production_model(name, score_table)
        rows = read_features(definition.feature_table, "score")
        scored = score_frame(
            definition,
            current.load(),
            current.version,
            rows,
            datetime.now(UTC),
            keep=keep,
            probability_column=probability_column,
        )
        if probability_column != "score":
            scored = per_customer(scored, probability_column)
        write_scores(score_table, scored)
        evaluation = publish_production_evaluation(name, current).row(0, named=True)
        bands = dict(scored.group_by("risk_band").len().iter_rows())
        sample = scored.sort(probability_column, descending=True).head(5)
        return dg.MaterializeResult(
            metadata={
                "model_version": current.version,
                "dagster/row_count": len(scored),
                "risk_bands": dg.MetadataValue.json(bands),
                "mean_probability": round(float(scored[probability_column].mean() or 0.0), 4),
                "test_roc_auc": evaluation["roc_auc"] if evaluation["roc_auc"] is not None else "n/a",
                "test_brier": evaluation["brier"] if evaluation["brier"] is not None else "n/a",
                "top_rows": dg.MetadataValue.md(
                    "| probability | band | reasons |\n|---:|---|---|\n"
                    + "\n".join(
                        f"| {p:.3f} | {b} | {'; '.join(r)} |"
                        for p, b, r in sample.select(probability_column, "risk_band", "reasons").iter_rows()
                    )
                ),
            }
        )

    return [candidate, evaluation, production, scores], [candidate_fit_for_production], scores_key


def build_customer_value_assets() -> tuple[
    list[dg.AssetsDefinition], list[dg.AssetChecksDefinition], dg.AssetKey
]:
    features_key = dg.AssetKey([FEATURES_SCHEMA, CUSTOMER_VALUE_TABLE])
    model_key = dg.AssetKey([GROUP, f"{CUSTOMER_VALUE}_candidate"])
    production_key = dg.AssetKey([GROUP, f"{CUSTOMER_VALUE}_production"])
    scores_key = dg.AssetKey([SCORES_SCHEMA, "customer_value"])

    @training_asset(
        key=model_key,
        deps=[features_key],
        kinds={"scipy"},
        description=(
            "BG/NBD (purchases) and Gamma-Gamma (spend per order) fitted on purchase histories up to the "
            "cut-off, checked against what customers bought in the horizon after it; registered."
        ),
    )
    def customer_value_candidate() -> dg.MaterializeResult:
        rows = read_features(CUSTOMER_VALUE_TABLE, "train")
        params = fit_customer_value(rows, HORIZON_DAYS)
        sound, why = customer_value_is_sound(params)
        card = {
            "kind": "customer_value",
            "feature_table": CUSTOMER_VALUE_TABLE,
            **params,
            "sound": sound,
            "why": why,
        }
        card["data_hash"] = data_hash(rows.select("frequency", "recency", "t", "monetary"))
        registered = registry().register(CUSTOMER_VALUE, params, card)
        return dg.MaterializeResult(
            metadata={
                "version": registered.version,
                "bgnbd": dg.MetadataValue.json(params["bgnbd"]),
                "gamma_gamma": dg.MetadataValue.json(params["gamma_gamma"]),
                "holdout": dg.MetadataValue.json(params["holdout"]),
                "dagster/row_count": len(rows),
            }
        )

    @dg.asset_check(
        asset=model_key,
        name="parameters_are_sound",
        blocking=True,
        description="Blocks promotion of BG/NBD + Gamma-Gamma parameters that are not positive and finite.",
    )
    def parameters_are_sound() -> dg.AssetCheckResult:
        latest = registry().latest(CUSTOMER_VALUE)
        if latest is None:
            return dg.AssetCheckResult(passed=False, metadata={"reason": "no fitted model"})
        sound, why = customer_value_is_sound(latest.card)
        return dg.AssetCheckResult(
            passed=sound, metadata={"version": latest.version, "why": why, "holdout": latest.card["holdout"]}
        )

    @training_asset(
        key=production_key,
        deps=[model_key],
        description="The customer-value parameters in production.",
    )
    def customer_value_production() -> dg.MaterializeResult:
        reg = registry()
        latest = reg.latest(CUSTOMER_VALUE)
        if latest is None or not customer_value_is_sound(latest.card)[0]:
            raise dg.Failure(description="not promoting customer value parameters: missing or unsound")
        current = reg.production(CUSTOMER_VALUE)
        if current is None or current.version != latest.version:
            reg.promote(CUSTOMER_VALUE, latest.version, reason=latest.card["why"])
        return dg.MaterializeResult(metadata={"version": latest.version})

    @scoring_asset(
        key=scores_key,
        deps=[production_key, features_key],
        description=(
            "customer_value: expected purchases and spend in the next 12 months per customer (BG/NBD + "
            "Gamma-Gamma), probability still active, value band, reasons, model version, scoring time."
        ),
    )
    def customer_value() -> dg.MaterializeResult:
        current = registry().production(CUSTOMER_VALUE)
        if current is None:
            return _no_production_model(CUSTOMER_VALUE, "customer_value")
        rows = read_features(CUSTOMER_VALUE_TABLE, "score")
        scored = score_customer_value(
            rows, current.load(), current.version, datetime.now(UTC), VALUE_HORIZON_DAYS
        )
        write_scores("customer_value", scored)
        return dg.MaterializeResult(
            metadata={
                "model_version": current.version,
                "dagster/row_count": len(scored),
                "total_predicted_value": round(float(scored["predicted_value"].sum() or 0.0), 2),
            }
        )

    return (
        [customer_value_candidate, customer_value_production, customer_value],
        [parameters_are_sound],
        scores_key,
    )


def build_ml_area() -> tuple[list[dg.AssetsDefinition], list[dg.AssetChecksDefinition], list[dg.AssetKey]]:
    lead_assets, lead_checks, lead_key = build_classifier_assets(
        CLASSIFIERS["lead_scoring"], "lead_scores", "score", keep=("owner_id", "stage")
    )
    churn_assets, churn_checks, churn_key = build_classifier_assets(
        CLASSIFIERS["churn"], "churn_predictions", "churn_probability", keep=("subscription_id",)
    )
    value_assets, value_checks, value_key = build_customer_value_assets()
    return (
        [*lead_assets, *churn_assets, *value_assets],
        [*lead_checks, *churn_checks, *value_checks],
        [lead_key, churn_key, value_key],
    )
