"""Run the dbt CLI against the warehouse that warehouse.settings points at.

``python -m pipelines.dbt <args>`` is the by-hand entry; tests and benchmarks call
:func:`run_dbt` with their own ``CRM360_HOME`` and artifact folders.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from pipelines.dbt.environment import dbt_environment
from warehouse.settings import get_settings

_NO_CONNECTION = {"parse", "ls", "list", "deps", "clean"}

# What the platform runs to refresh the warehouse (Dagster's dbt step, the benchmark): every
# model, seed and data test. dbt's unit tests check SQL logic against fixed rows, so they
# run where the SQL changes (`make test` builds the project with them), not in every
# refresh, as dbt recommends: 7 of them cost about 1.5 s of each build (D39).
BUILD_ARGS = ["build", "--exclude-resource-type", "unit_test"]


def dbt_command(args: list[str]) -> list[str]:
    settings = get_settings()
    dbt = Path(sys.executable).parent / "dbt"
    return [
        str(dbt),
        *args,
        "--project-dir",
        str(settings.dbt_project_dir),
        "--profiles-dir",
        str(settings.dbt_project_dir),
    ]


def run_dbt(
    args: list[str],
    *,
    home: Path | None = None,
    target_path: Path | None = None,
    log_path: Path | None = None,
    capture: bool = False,
) -> subprocess.CompletedProcess[str]:
    """Run dbt with the profile's variables set for its process only.

    ``home`` sets ``CRM360_HOME`` for this call (the key and warehouse under it are used,
    created on first use); artifacts go to ``target_path`` / ``log_path`` when given.
    """
    env = dict(os.environ)
    if home is not None:
        env["CRM360_HOME"] = str(home)
        for name in ("CRM360_ENCRYPTION_KEY", "CRM360_WAREHOUSE", "CRM360_DATA_DIR", "CRM360_KEY_FILE"):
            env.pop(name, None)
    saved = dict(os.environ)
    try:
        os.environ.clear()
        os.environ.update(env)
        settings = get_settings()
        parse_only = bool(args) and args[0] in _NO_CONNECTION
        env.update(dbt_environment(settings, for_parse=parse_only))
        command = dbt_command(list(args))
    finally:
        os.environ.clear()
        os.environ.update(saved)
    if target_path is not None:
        command += ["--target-path", str(target_path)]
    if log_path is not None:
        command += ["--log-path", str(log_path)]
    return subprocess.run(
        command, env=env, cwd=settings.dbt_project_dir, text=True, capture_output=capture, check=False
    )


def main(argv: list[str]) -> int:
    return run_dbt(argv).returncode
