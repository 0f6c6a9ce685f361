"""Every dbt model, seed and test of dbt_project/ as Dagster assets and asset checks.

No `from __future__ import annotations` here: Dagster reads the context annotation.
"""

from collections.abc import Iterator
from typing import Any

from dagster import AssetExecutionContext, AssetMaterialization, Output
from dagster_dbt import dbt_assets

from pipelines.dbt.cli import BUILD_ARGS
from pipelines.dbt.project import crm360_dbt_project, ensure_manifest
from pipelines.dbt.resources import WarehouseDbtCliResource
from pipelines.dbt.translator import Crm360DbtTranslator
from pipelines.ml.assets import ml_datasets_vars
from pipelines.pools import WAREHOUSE_POOL

translator = Crm360DbtTranslator()


@dbt_assets(
    manifest=ensure_manifest(),
    project=crm360_dbt_project,
    dagster_dbt_translator=translator,
    name="crm360_dbt",
    pool=WAREHOUSE_POOL,
    op_tags={"crm360/writes": "warehouse"},
)
def crm360_dbt_assets(context: AssetExecutionContext, dbt: WarehouseDbtCliResource) -> Iterator[Any]:
    """``dbt build`` of the selected models: run, test (as asset checks), in DAG order."""
    invocation = dbt.cli([*BUILD_ARGS, *ml_datasets_vars(context.run.tags)], context=context)
    events = list(invocation.stream())
    # Row counts are read after dbt has exited: while it runs it is the warehouse's only
    # writer, and no other process may open the file (DuckDB's single-writer lock).
    counts = _row_counts(invocation, events) if invocation.is_successful() else {}
    for event in events:
        key = getattr(event, "output_name", None) or getattr(event, "asset_key", None)
        if isinstance(event, Output) and event.output_name in counts:
            yield event.with_metadata({**event.metadata, "dagster/row_count": counts[event.output_name]})
        elif isinstance(event, AssetMaterialization) and key in counts:
            yield event.with_metadata({**event.metadata, "dagster/row_count": counts[key]})
        else:
            yield event


def _row_counts(invocation: Any, events: list[Any]) -> dict[Any, int]:
    """Row counts of the tables dbt built in this invocation, keyed like their events."""
    from warehouse.connection import warehouse

    manifest = invocation.manifest
    relations: dict[Any, str] = {}
    for event in events:
        if not isinstance(event, Output | AssetMaterialization):
            continue
        unique_id = (event.metadata.get("unique_id") or {}) if hasattr(event, "metadata") else None
        unique_id = getattr(unique_id, "value", unique_id)
        node = manifest.get("nodes", {}).get(unique_id) if isinstance(unique_id, str) else None
        if not node or node.get("config", {}).get("materialized") == "view":
            continue
        name = event.output_name if isinstance(event, Output) else event.asset_key
        relations[name] = f'"{node["schema"]}"."{node["alias"] or node["name"]}"'
    if not relations:
        return {}
    counts: dict[Any, int] = {}
    try:
        with warehouse(read_only=True) as con:
            for name, relation in relations.items():
                counts[name] = con.execute(f"select count(*) from {relation}").fetchone()[0]
    except Exception:  # metadata is a nicety: never fail a build over it
        return {}
    return counts
