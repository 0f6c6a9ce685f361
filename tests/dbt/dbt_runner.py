"""Run dbt against a private warehouse, artifacts kept beside it."""

from __future__ import annotations

import subprocess
from pathlib import Path

from pipelines.dbt.cli import run_dbt


class DbtRunner:
    """Runs dbt against the warehouse under ``home``, with artifacts kept in ``home``."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.target_path = home / "dbt_target"
        self.log_path = home / "dbt_logs"

    def __call__(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        completed = run_dbt(
            list(args), home=self.home, target_path=self.target_path, log_path=self.log_path, capture=True
        )
        if check and completed.returncode != 0:
            raise AssertionError(
                f"dbt {' '.join(args)} failed:\n{completed.stdout[-6000:]}\n{completed.stderr[-3000:]}"
            )
        return completed
