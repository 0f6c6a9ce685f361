"""The Dagster code location: it loads, reads as the warehouse's layers, and builds end to end."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest

import pipelines.ml as ml_area
from pipelines.definitions import defs
from pipelines.ml.assets import SCORING_RUN_TAGS
from warehouse.connection import warehouse
from warehouse.segments import SegmentFilters, save_segment
from warehouse.settings import get_settings
from warehouse.snapshots import open_snapshot, read_pointer


def test_definitions_load_with_every_layer_as_a_group():
    graph = defs.resolve_asset_graph()
    groups = {graph.get(key).group_name for key in graph.get_all_asset_keys()}
    assert {"ingest", "staging", "intermediate", "marts", "serving"} <= groups
    assert graph.get(dg.AssetKey(["marts", "customer_360"])).description
    assert {sensor.name for sensor in defs.sensors} >= {"ingest_sensor"}
    assert {schedule.name for schedule in defs.schedules} >= {"ingest_hourly"}


def test_new_landing_files_refresh_everything_down_to_the_snapshot():
    sensor = next(sensor for sensor in defs.sensors if sensor.name == "ingest_sensor")
    job = defs.resolve_job_def(sensor.job_name)
    selected = job.asset_layer.executable_asset_keys
    assert {dg.AssetKey(["raw", "events"]), dg.AssetKey(["marts", "customer_360"])} <= selected
    assert dg.AssetKey(["serving", "snapshot"]) in selected


def test_refresh_scores_new_data_with_the_production_models_but_does_not_train():
    """Every ingest refreshes the feature marts and the scores; training stays weekly."""
    refresh = defs.resolve_job_def("refresh_job").asset_layer.executable_asset_keys
    retrain = defs.resolve_job_def("ml_retrain_job").asset_layer.executable_asset_keys
    training = {
        dg.AssetKey(["ml", f"{model}_{step}"])
        for model in ("lead_scoring", "churn")
        for step in ("candidate", "evaluation", "production")
    } | {dg.AssetKey(["ml", "customer_value_candidate"]), dg.AssetKey(["ml", "customer_value_production"])}
    assert set(ml_area.training_keys) == training
    scores = set(ml_area.score_keys)
    assert scores == {dg.AssetKey(["ml", t]) for t in ("lead_scores", "churn_predictions", "customer_value")}
    features = {dg.AssetKey(["features", t]) for t in ("ml_lead_features", "ml_churn_features")}
    assert not training & refresh
    assert scores | features | {dg.AssetKey(["serving", "snapshot"])} <= refresh
    assert training | scores <= retrain
    # the blocking checks of the training chain are not in the refresh either
    checks = {
        key.name for key in defs.resolve_job_def("refresh_job").asset_layer.asset_graph.asset_check_keys
    }
    assert "candidate_fit_for_production" not in checks and "parameters_are_sound" not in checks
    # so the jobs that never train build only the feature marts' scoring rows; the retrain builds both
    for name in ("refresh_job", "ml_score_job"):
        assert defs.resolve_job_def(name).tags.items() >= SCORING_RUN_TAGS.items(), name
    assert not defs.resolve_job_def("ml_retrain_job").tags.keys() & SCORING_RUN_TAGS.keys()


def test_the_dagster_cli_loads_the_code_location():
    """What `crm360 build` and `crm360 serve` do: load the module by name, not by import."""
    dagster = Path(sys.executable).parent / "dagster"
    result = subprocess.run(
        [str(dagster), "definitions", "validate", "-m", "pipelines.definitions"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_step_that_touches_the_warehouse_takes_the_warehouse_pool():
    steps = [assets.op for assets in defs.assets if isinstance(assets, dg.AssetsDefinition)]
    assert {step.name for step in steps} >= {"raw_landing", "crm360_dbt", "serving__snapshot"}
    assert all(step.pool == "warehouse" for step in steps)


def test_the_whole_pipeline_materializes_from_landing_to_snapshot(small_dataset, tmp_path, monkeypatch):
    monkeypatch.setenv("CRM360_HOME", str(tmp_path))
    for name in ("CRM360_ENCRYPTION_KEY", "CRM360_WAREHOUSE", "CRM360_DATA_DIR", "CRM360_KEY_FILE"):
        monkeypatch.delenv(name, raising=False)
    shutil.copytree(small_dataset.landing, tmp_path / "landing")
    # A segment saved in the dashboards before the run is published with its members.
    saved = save_segment(
        "acme", "Paying customers", SegmentFilters(lifecycle_stages=("Customer",)), key_id="k1"
    )

    job = defs.resolve_implicit_global_asset_job_def()
    result = job.execute_in_process(instance=dg.DagsterInstance.ephemeral(), raise_on_error=False)

    failed = [event.step_key for event in result.all_events if event.event_type_value == "STEP_FAILURE"]
    assert result.success, failed
    with warehouse(read_only=True) as con:
        customers = con.execute("select count(*) from marts.customer_360").fetchone()[0]
        unreconciled = con.execute(
            "select count(*) from raw.manifest where rows_in <> loaded + quarantined + duplicates"
        ).fetchone()[0]
        paying = {
            row[0]
            for row in con.execute(
                "select customer_id from marts.customer_360 where tenant_id = 'acme' and lifecycle_stage = 'Customer'"
            ).fetchall()
        }
    assert customers > 0
    assert unreconciled == 0
    pointer = read_pointer(get_settings().snapshots_dir)
    assert pointer is not None
    with open_snapshot(pointer.path(get_settings().snapshots_dir)) as snapshot:
        members = {
            row[0]
            for row in snapshot.execute(
                "select customer_id from segment_members where tenant_id = 'acme' and segment_id = ?",
                [saved.segment_id],
            ).fetchall()
        }
        kind = snapshot.execute(
            "select kind from segments where segment_id = ?", [saved.segment_id]
        ).fetchone()
        # the dashboards' model section: each classifier's production metrics and calibration
        metrics = snapshot.execute("select model, model_version, roc_auc from model_metrics").fetchall()
        bins = snapshot.execute(
            "select model, count(*), sum(rows) from model_calibration group by model"
        ).fetchall()
        lead_versions = snapshot.execute("select distinct model_version from lead_scores").fetchall()
    assert paying and members == paying
    assert kind == ("saved",)
    versions = {model: version for model, version, _ in metrics}
    assert set(versions) == {"churn", "lead_scoring"}
    assert lead_versions == [(versions["lead_scoring"],)]
    assert all(roc_auc is None or 0 <= roc_auc <= 1 for _, _, roc_auc in metrics)
    assert {model for model, _, _ in bins} == {"churn", "lead_scoring"}
    assert all(count >= 1 and rows >= count for _, count, rows in bins)


@pytest.mark.parametrize("scale", ["small"])
def test_cli_generate_refuses_to_overwrite_without_the_flag(scale, tmp_path):
    from pipelines.cli import main

    out, truth = tmp_path / "landing", tmp_path / "truth"
    assert main(["generate", "--scale", scale, "--seed", "3", "--out", str(out), "--truth", str(truth)]) == 0
    with pytest.raises(FileExistsError):
        main(["generate", "--scale", scale, "--seed", "3", "--out", str(out), "--truth", str(truth)])
    args = [
        "generate",
        "--scale",
        scale,
        "--seed",
        "3",
        "--out",
        str(out),
        "--truth",
        str(truth),
        "--overwrite",
    ]
    assert main(args) == 0
