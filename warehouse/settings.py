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
    # DuckDB's memory cap inside dbt (beyond it, it spills to .tmp/ in dbt's working
    # folder); its default, 80% of RAM, got the process killed while other jobs shared
    # the machine.
    dbt_memory_limit: str
    snapshots_keep: int = 3  # published snapshots kept on disk, the current one included
    dbt_runs_keep: int = 20  # folders of dbt_runs_dir kept, the newest ones
    snapshot_poll_seconds: float = 1.0  # how often readers look for a new snapshot pointer
    ops_db_path: Path = Path("ops.sqlite")  # API keys, audit and privacy requests (docs/api.md)
    models_dir: Path = Path("models")  # the ML model registry (docs/ml.md)
    api_host: str = "127.0.0.1"
    api_port: int = 8000
    api_workers: int = 2
    api_keepalive_seconds: int = 75  # thousands of mostly idle clients: keep their connections
    api_rate_limit: float = 500.0  # requests/s per API key in each worker process
    api_rate_burst: int = 1000
    # Probabilistic identity (docs/identity.md): matches at or above the accept threshold
    # merge; those between the review and accept thresholds wait for a reviewer.
    identity_accept_threshold: float = 0.8
    identity_review_threshold: float = 0.5
    identity_max_cluster_records: int = 20  # a probabilistic merge never makes a bigger cluster
    identity_model_dir: Path = Path("models/identity")  # saved, versioned splink models
    dashboard_host: str = "127.0.0.1"
    dashboard_port: int = 8501
    dashboard_cache_seconds: int = 600  # query results cached per snapshot version, this long at most
    # Privacy (docs/privacy.md): the suppression list's own HMAC key, and retention policies.
    suppression_key_file: Path = Path("suppression.key")
    retention_config: Path = REPO_ROOT / "warehouse" / "retention.toml"

    @property
    def quarantine_dir(self) -> Path:
        return self.data_dir / "quarantine"

    @property
    def dbt_runs_dir(self) -> Path:
        """The artifacts and logs of the dbt commands Dagster runs, a folder each."""
        return self.data_dir / "dbt_runs"


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
        dbt_memory_limit=env.get("CRM360_DBT_MEMORY_LIMIT", "8GB"),
        snapshots_keep=max(1, int(env.get("CRM360_SNAPSHOTS_KEEP", "3"))),
        snapshot_poll_seconds=float(env.get("CRM360_SNAPSHOT_POLL_SECONDS", "1.0")),
        ops_db_path=Path(env.get("CRM360_OPS_DB", data_dir / "api" / "ops.sqlite")),
        models_dir=Path(env.get("CRM360_MODELS_DIR", data_dir / "models")),
        api_host=env.get("CRM360_API_HOST", "127.0.0.1"),
        api_port=int(env.get("CRM360_API_PORT", "8000")),
        api_workers=int(env.get("CRM360_API_WORKERS", "2")),
        api_keepalive_seconds=int(env.get("CRM360_API_KEEPALIVE", "75")),
        api_rate_limit=float(env.get("CRM360_API_RATE_LIMIT", "500")),
        api_rate_burst=int(env.get("CRM360_API_RATE_BURST", "1000")),
        identity_accept_threshold=float(env.get("CRM360_IDENTITY_ACCEPT_THRESHOLD", "0.8")),
        identity_review_threshold=float(env.get("CRM360_IDENTITY_REVIEW_THRESHOLD", "0.5")),
        identity_max_cluster_records=int(env.get("CRM360_IDENTITY_MAX_CLUSTER_RECORDS", "20")),
        identity_model_dir=Path(env.get("CRM360_IDENTITY_MODEL_DIR", data_dir / "models" / "identity")),
        dashboard_host=env.get("CRM360_DASHBOARD_HOST", "127.0.0.1"),
        dashboard_port=int(env.get("CRM360_DASHBOARD_PORT", "8501")),
        dashboard_cache_seconds=int(env.get("CRM360_DASHBOARD_CACHE_SECONDS", "600")),
        suppression_key_file=Path(env.get("CRM360_SUPPRESSION_KEY_FILE", data_dir / "suppression.key")),
        retention_config=Path(env.get("CRM360_RETENTION_CONFIG", REPO_ROOT / "warehouse" / "retention.toml")),
    )
