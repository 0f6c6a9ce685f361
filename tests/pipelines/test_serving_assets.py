"""The publish asset: publishes from the warehouse, and refuses when upstream checks failed."""

from __future__ import annotations

import dagster as dg
import pytest

from pipelines.serving.assets import SNAPSHOT_KEY, build_serving_assets, snapshot_is_readable
from tests.serving_fixtures import build_serving_warehouse
from warehouse.settings import get_settings
from warehouse.snapshots import read_pointer

MART = dg.AssetKey(["marts", "customer_360"])


@pytest.fixture
def settings(tmp_path, monkeypatch):
    monkeypatch.setenv("CRM360_HOME", str(tmp_path))
    for name in ("CRM360_WAREHOUSE", "CRM360_DATA_DIR", "CRM360_KEY_FILE", "CRM360_ENCRYPTION_KEY"):
        monkeypatch.delenv(name, raising=False)
    settings = get_settings()
    build_serving_warehouse(settings)
    return settings


def _mart(passes: bool):
    @dg.asset(key=MART, check_specs=[dg.AssetCheckSpec("rows_unique", asset=MART, blocking=True)])
    def customer_360():
        yield dg.MaterializeResult()
        yield dg.AssetCheckResult(check_name="rows_unique", passed=passes)

    return customer_360


def test_publish_asset_publishes_a_snapshot(settings):
    result = dg.materialize([_mart(True), *build_serving_assets([MART]), snapshot_is_readable])
    assert result.success
    pointer = read_pointer(settings.snapshots_dir)
    assert pointer is not None
    metadata = result.asset_materializations_for_node("serving__snapshot")[0].metadata
    assert metadata["version"].value == pointer.version
    assert all(check.passed for check in result.get_asset_check_evaluations())


def test_publish_asset_refuses_after_a_failed_blocking_check(settings):
    instance = dg.DagsterInstance.ephemeral()
    assets = [_mart(False), *build_serving_assets([MART])]
    # In the same run: the blocking check stops the publish step.
    result = dg.materialize(assets, instance=instance, raise_on_error=False)
    assert not result.success
    assert read_pointer(settings.snapshots_dir) is None
    # Selected alone later: the asset sees the failed check and refuses.
    job = dg.Definitions(assets=assets).resolve_implicit_global_asset_job_def()
    alone = job.execute_in_process(instance=instance, asset_selection=[SNAPSHOT_KEY], raise_on_error=False)
    assert not alone.success
    assert read_pointer(settings.snapshots_dir) is None
