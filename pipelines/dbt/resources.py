"""The dbt CLI resource: dagster-dbt's, with the warehouse's variables set per invocation."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from dagster_dbt import DbtCliResource
from dagster_dbt.core.dbt_cli_invocation import DbtCliInvocation

from pipelines.dbt.environment import dbt_environ, dbt_environment
from pipelines.dbt.project import crm360_dbt_project


class WarehouseDbtCliResource(DbtCliResource):
    """``DbtCliResource`` whose dbt processes can open the encrypted warehouse.

    The key is read (or created on first use) from warehouse.settings when a command
    starts and handed to that dbt process in its environment; it is not stored in the
    resource's config, so it never appears in the run's config or the Dagster UI.
    """

    def cli(self, args: Sequence[str], **kwargs: Any) -> DbtCliInvocation:  # type: ignore[override]
        with dbt_environ(dbt_environment()):
            return super().cli(args, **kwargs)


def dbt_resource() -> WarehouseDbtCliResource:
    # The venv's dbt, found without relying on PATH (dagster may run without the venv active).
    dbt = Path(sys.executable).parent / "dbt"
    return WarehouseDbtCliResource(project_dir=crm360_dbt_project, dbt_executable=str(dbt))
