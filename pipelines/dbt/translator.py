"""How dbt nodes appear in Dagster: the folder is the group, the schema prefixes the key."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dagster import AssetKey
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings

LAYERS = ("staging", "intermediate", "marts", "ml")


class Crm360DbtTranslator(DagsterDbtTranslator):
    """Groups: staging, intermediate, marts (the model's top folder), reference (seeds).

    Keys: a model or seed is ``[schema, name]`` (``marts/customer_360``), as it is
    addressed in the warehouse; a source table is ``raw/<table>``, the key of the ingest
    asset that loads it, so the graph runs landing -> raw -> staging -> ... unbroken.
    """

    def __init__(self) -> None:
        super().__init__(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True))

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            # a source written by a Python asset between dbt models names its key in meta
            explicit = (dbt_resource_props.get("meta") or {}).get("dagster", {}).get("asset_key")
            return AssetKey(explicit) if explicit else AssetKey(["raw", dbt_resource_props["name"]])
        if dbt_resource_props["resource_type"] in ("model", "seed", "snapshot"):
            return AssetKey([dbt_resource_props["schema"], dbt_resource_props["name"]])
        return super().get_asset_key(dbt_resource_props)

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        if dbt_resource_props["resource_type"] == "seed":
            return "reference"
        fqn = dbt_resource_props.get("fqn") or []
        if len(fqn) > 1 and fqn[1] in LAYERS:
            return fqn[1]
        return super().get_group_name(dbt_resource_props)
