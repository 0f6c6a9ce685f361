"""The dbt CLI resource: dagster-dbt's, with the warehouse's variables set per invocation."""

from __future__ import annotations

import shutil
import sys
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from dagster_dbt import DbtCliResource
from dagster_dbt.core.dbt_cli_invocation import DbtCliInvocation

from pipelines.dbt.environment import dbt_environ, dbt_environment
from pipelines.dbt.project import crm360_dbt_project
from warehouse.settings import get_settings


class WarehouseDbtCliResource(DbtCliResource):
    """``DbtCliResource`` whose dbt processes can open the encrypted warehouse.

    The key is read (or created on first use) from warehouse.settings when a command
    starts and handed to that dbt process in its environment; it is not stored in the
    resource's config, so it never appears in the run's config or the Dagster UI.

    Each command writes its artifacts and log to a new folder of the home's dbt_runs_dir
    (dagster-dbt's default, a new folder under the project's target/ per command, grew
    without bound: 1.3 GB after a few weeks of development); the newest
    ``dbt_runs_keep`` are kept.
    """

    def cli(self, args: Sequence[str], **kwargs: Any) -> DbtCliInvocation:  # type: ignore[override]
        if kwargs.get("target_path") is None:
            kwargs["target_path"] = _new_run_folder(kwargs.get("context"))
        with dbt_environ(dbt_environment()):
            return super().cli(args, **kwargs)


def _new_run_folder(context: Any) -> Path:
    settings = get_settings()
    runs = settings.dbt_runs_dir
    runs.mkdir(parents=True, exist_ok=True)
    # Names sort by time; the Dagster run id, when there is one, finds a run's dbt log.
    run_id = context.run.run_id[:8] if context is not None else "norun"
    folder = runs / f"{time.strftime('%Y%m%dT%H%M%S')}-{run_id}-{uuid.uuid4().hex[:6]}"
    earlier = sorted(runs.iterdir())
    for old in earlier[: max(0, len(earlier) - (settings.dbt_runs_keep - 1))]:
        shutil.rmtree(old, ignore_errors=True)
    return folder


def dbt_resource() -> WarehouseDbtCliResource:
    # The venv's dbt, found without relying on PATH (dagster may run without the venv active).
    dbt = Path(sys.executable).parent / "dbt"
    return WarehouseDbtCliResource(project_dir=crm360_dbt_project, dbt_executable=str(dbt))
