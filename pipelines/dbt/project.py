"""The dbt project as Dagster sees it, with its manifest prepared at load time.

We do not rely on ``DbtProject.prepare_if_dev``: it only runs under ``dagster dev``, and
``crm360 build`` (``dagster asset materialize``) in a fresh clone would then find no
manifest. Instead, ``ensure_manifest`` runs ``dbt parse`` when the manifest is absent or
older than any file of the project (a model, test, seed or YAML edited since), with the
profile's variables set by pipelines.dbt.environment (parse never connects, never needs
the real key). A fresh clone pays one parse (about 10 s) at its first load.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from dagster._utils import run_with_concurrent_update_guard
from dagster_dbt import DbtProject

from pipelines.dbt.environment import dbt_environment
from warehouse.settings import get_settings


def _project() -> DbtProject:
    settings = get_settings()
    return DbtProject(
        project_dir=settings.dbt_project_dir,
        profiles_dir=settings.dbt_project_dir,
        target=settings.dbt_target,
    )


crm360_dbt_project = _project()


def _parse(project: DbtProject) -> None:
    dbt = Path(sys.executable).parent / "dbt"
    env = {**os.environ, **dbt_environment(for_parse=True), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    completed = subprocess.run(
        [
            str(dbt),
            "parse",
            "--quiet",
            "--project-dir",
            str(project.project_dir),
            "--profiles-dir",
            str(project.profiles_dir),
            "--target-path",
            str(project.target_path),
        ],
        env=env,
        cwd=project.project_dir,
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"dbt parse failed:\n{completed.stdout[-4000:]}\n{completed.stderr[-4000:]}")


_PROJECT_FILES = ("dbt_project.yml", "profiles.yml", "models", "macros", "tests", "seeds", "analyses")


def _newest_project_file(project: DbtProject) -> float:
    newest = 0.0
    for name in _PROJECT_FILES:
        path = project.project_dir / name
        if path.is_file():
            newest = max(newest, path.stat().st_mtime)
        elif path.is_dir():
            # folders too: deleting or renaming a model changes only its folder's mtime
            for child in (path, *path.rglob("*")):
                newest = max(newest, child.stat().st_mtime)
    return newest


def manifest_is_stale(project: DbtProject = crm360_dbt_project) -> bool:
    path = project.manifest_path
    return not path.exists() or path.stat().st_mtime < _newest_project_file(project)


def ensure_manifest(project: DbtProject = crm360_dbt_project) -> Path:
    """Return the manifest path, running ``dbt parse`` first when it is missing or stale."""
    if manifest_is_stale(project):
        run_with_concurrent_update_guard(project.manifest_path, _parse, project=project)
    return project.manifest_path
