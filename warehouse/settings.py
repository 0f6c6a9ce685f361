"""Every environment-dependent decision of crm360, in one place.

Nothing else in the project reads ``os.environ``: paths, the encryption key source
and the dbt target are derived here from ``CRM360_*`` variables with safe local
defaults, so a fresh clone works with no configuration and tests can point the whole
platform at a temporary directory by setting ``CRM360_HOME``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Settings:
    home: Path
    landing_dir: Path
    ground_truth_dir: Path
    data_dir: Path
    warehouse_path: Path
    key_file: Path
    encryption_key: str | None
    snapshots_dir: Path
    dbt_project_dir: Path
    dbt_target: str
    snapshots_keep: int = 3  # published snapshots kept on disk, the current one included
    snapshot_poll_seconds: float = 1.0  # how often readers look for a new snapshot pointer
    ops_db_path: Path = Path("ops.sqlite")  # API keys, audit and privacy requests (docs/api.md)
    api_host: str = "127.0.0.1"
    api_port: int = 8000
    api_workers: int = 2
    api_keepalive_seconds: int = 75  # thousands of mostly idle clients: keep their connections
    api_rate_limit: float = 500.0  # requests/s per API key in each worker process
    api_rate_burst: int = 1000

    @property
    def quarantine_dir(self) -> Path:
        return self.data_dir / "quarantine"


def get_settings() -> Settings:
    """Read the settings afresh, so tests that change ``CRM360_*`` variables see it."""
    env = os.environ
    home = Path(env.get("CRM360_HOME", REPO_ROOT)).resolve()
    data_dir = Path(env.get("CRM360_DATA_DIR", home / "warehouse" / "data"))
    return Settings(
        home=home,
        landing_dir=Path(env.get("CRM360_LANDING_DIR", home / "landing")),
        ground_truth_dir=Path(env.get("CRM360_GROUND_TRUTH_DIR", home / "ground_truth")),
        data_dir=data_dir,
        warehouse_path=Path(env.get("CRM360_WAREHOUSE", data_dir / "crm360.duckdb")),
        key_file=Path(env.get("CRM360_KEY_FILE", data_dir / "crm360.key")),
        encryption_key=env.get("CRM360_ENCRYPTION_KEY") or None,
        snapshots_dir=Path(env.get("CRM360_SNAPSHOTS_DIR", data_dir / "snapshots")),
        dbt_project_dir=REPO_ROOT / "dbt_project",
        dbt_target=env.get("CRM360_DBT_TARGET", "dev"),
        snapshots_keep=max(1, int(env.get("CRM360_SNAPSHOTS_KEEP", "3"))),
        snapshot_poll_seconds=float(env.get("CRM360_SNAPSHOT_POLL_SECONDS", "1.0")),
        ops_db_path=Path(env.get("CRM360_OPS_DB", data_dir / "api" / "ops.sqlite")),
        api_host=env.get("CRM360_API_HOST", "127.0.0.1"),
        api_port=int(env.get("CRM360_API_PORT", "8000")),
        api_workers=int(env.get("CRM360_API_WORKERS", "2")),
        api_keepalive_seconds=int(env.get("CRM360_API_KEEPALIVE", "75")),
        api_rate_limit=float(env.get("CRM360_API_RATE_LIMIT", "500")),
        api_rate_burst=int(env.get("CRM360_API_RATE_BURST", "1000")),
    )
