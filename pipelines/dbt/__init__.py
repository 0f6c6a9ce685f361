"""dbt in Dagster: the warehouse models as assets, their tests as asset checks.

For pipelines/definitions.py: ``from pipelines.dbt import dbt_defs`` (the assets and the
``dbt`` resource). Loaded lazily, so ``python -m pipelines.dbt`` runs dbt without first
preparing the manifest that the asset definitions need.
"""

from __future__ import annotations

from typing import Any

__all__ = ["crm360_dbt_assets", "dbt_defs"]


def __getattr__(name: str) -> Any:
    if name == "crm360_dbt_assets":
        from pipelines.dbt import assets

        return getattr(assets, name)
    if name == "dbt_defs":
        from dagster import Definitions

        from pipelines.dbt.assets import crm360_dbt_assets
        from pipelines.dbt.resources import dbt_resource

        defs = Definitions(assets=[crm360_dbt_assets], resources={"dbt": dbt_resource()})
        globals()["dbt_defs"] = defs
        return defs
    raise AttributeError(name)
