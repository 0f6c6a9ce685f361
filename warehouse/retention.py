"""Retention: delete rows older than each table's policy (warehouse/retention.toml).

One configuration file lists, per table, the column that dates a row and how many days
to keep; :func:`enforce_retention` deletes older rows in one transaction and returns
counts per table, which the Dagster asset shows as metadata. Audit-trail day folders
older than their policy are removed whole (api/audit.py writes one folder per day).
Deleted rows leave the file at the next compaction (erasures compact; so does
``crm360 rotate-key``).
"""

from __future__ import annotations

import shutil
import tomllib
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb

from warehouse.settings import Settings, get_settings


@dataclass(frozen=True)
class Policy:
    table: str  # schema.table
    column: str
    keep_days: int


def load_policies(path: Path | None = None) -> tuple[list[Policy], dict[str, int]]:
    """Table policies and file policies (name -> keep_days) from the config file."""
    path = path or get_settings().retention_config
    config = tomllib.loads(path.read_text())
    policies = []
    for table, spec in config.get("tables", {}).items():
        if "." not in table:
            raise ValueError(f"retention: {table!r} must be schema.table")
        policies.append(Policy(table, str(spec["column"]), int(spec["keep_days"])))
    files = {name: int(spec["keep_days"]) for name, spec in config.get("files", {}).items()}
    return policies, files


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def enforce_retention(
    con: duckdb.DuckDBPyConnection,
    settings: Settings | None = None,
    *,
    now: datetime | None = None,
    config: Path | None = None,
) -> dict[str, dict]:
    """Apply every policy; returns table -> {deleted, cutoff} (or {missing: True})."""
    settings = settings or get_settings()
    now = now or datetime.now(UTC)
    policies, files = load_policies(config or settings.retention_config)
    existing = {
        f"{schema}.{table}": {c for c in columns}
        for schema, table, columns in con.execute(
            "select schema_name, table_name, list(column_name) from duckdb_columns() "
            "where database_name = current_database() group by all"
        ).fetchall()
    }
    report: dict[str, dict] = {}
    con.execute("begin transaction")
    try:
        for policy in policies:
            cutoff = now - timedelta(days=policy.keep_days)
            columns = existing.get(policy.table)
            if columns is None or policy.column not in columns:
                report[policy.table] = {"missing": True, "column": policy.column}
                continue
            schema, table = policy.table.split(".", 1)
            deleted = con.execute(
                f"delete from {_quote(schema)}.{_quote(table)} where {_quote(policy.column)} < ?",
                [cutoff],
            ).fetchone()[0]
            report[policy.table] = {
                "deleted": int(deleted),
                "cutoff": cutoff.isoformat(),
                "keep_days": policy.keep_days,
            }
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    if "audit" in files:
        report["files.audit"] = _prune_audit(settings, now.date() - timedelta(days=files["audit"]))
    return report


def _prune_audit(settings: Settings, oldest_kept: date) -> dict:
    root = settings.ops_db_path.parent / "audit"
    removed = 0
    for folder in sorted(root.glob("????-??-??")) if root.exists() else []:
        if folder.name < oldest_kept.isoformat():
            shutil.rmtree(folder)
            removed += 1
    return {"deleted_days": removed, "cutoff": oldest_kept.isoformat()}
