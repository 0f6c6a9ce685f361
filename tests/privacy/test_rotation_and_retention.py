"""Key rotation (new files, old key opens nothing) and the retention job."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest

pytestmark = pytest.mark.timeout(300)


def test_rotate_key_reencrypts_warehouse_and_snapshots(privacy_home: Path) -> None:
    from pipelines.cli import main
    from warehouse.connection import WarehouseKeyError, load_key, open_encrypted, warehouse
    from warehouse.settings import get_settings
    from warehouse.snapshots import list_snapshots, open_snapshot, publish_from_warehouse, read_pointer

    settings = get_settings()
    publish_from_warehouse(settings)
    old_key = load_key(settings)
    old_snapshots = [p for _, p in list_snapshots(settings.snapshots_dir)]
    with warehouse(read_only=True) as con:
        before = con.execute("select count(*) from marts.customer_360").fetchone()[0]

    assert main(["rotate-key"]) == 0

    new_key = load_key(settings)
    assert new_key != old_key
    assert (settings.key_file.stat().st_mode & 0o777) == 0o600
    with pytest.raises(WarehouseKeyError):
        open_encrypted(settings.warehouse_path, old_key, read_only=True).close()
    with warehouse(read_only=True) as con:
        assert con.execute("select count(*) from marts.customer_360").fetchone()[0] == before
    assert not any(p.exists() for p in old_snapshots)  # new files, old ones gone
    current = read_pointer(settings.snapshots_dir)
    snap = open_snapshot(current.path(settings.snapshots_dir))
    assert snap.execute("select count(*) from customer_360").fetchone()[0] == before
    snap.close()
    with pytest.raises(WarehouseKeyError):
        open_encrypted(current.path(settings.snapshots_dir), old_key, read_only=True).close()
    assert len(list_snapshots(settings.snapshots_dir)) == len(old_snapshots)

    from api.audit import query_audit

    assert any(r["action"] == "keys.rotate" for r in query_audit(settings, "acme"))


def test_retention_job_deletes_old_rows_with_counts(
    privacy_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pipelines.privacy.assets import retention
    from warehouse.connection import warehouse

    with warehouse(read_only=True) as con:
        cutoff = con.execute("select quantile_cont(epoch(timestamp), 0.5) from raw.events").fetchone()[0]
        expected = con.execute(
            "select count(*) from raw.events where epoch(timestamp) < ?", [cutoff]
        ).fetchone()[0]
        total = con.execute("select count(*) from raw.events").fetchone()[0]
    from datetime import UTC, datetime

    keep_days = max(1, int((datetime.now(UTC).timestamp() - cutoff) // 86400))
    config = privacy_home / "retention.toml"
    config.write_text(
        f'[tables."raw.events"]\ncolumn = "timestamp"\nkeep_days = {keep_days}\n'
        '[tables."marts.not_there"]\ncolumn = "x"\nkeep_days = 1\n'
        "[files.audit]\nkeep_days = 30\n"
    )
    monkeypatch.setenv("CRM360_RETENTION_CONFIG", str(config))
    result = dg.materialize([retention])
    assert result.success
    metadata = result.asset_materializations_for_node("privacy__retention")[0].metadata
    deleted = metadata["deleted_per_table"].value["raw.events"]
    assert 0 < deleted < total and abs(deleted - expected) <= total * 0.05
    assert metadata["policies"].value["marts.not_there"]["missing"] is True
    with warehouse(read_only=True) as con:
        assert con.execute("select count(*) from raw.events").fetchone()[0] == total - deleted


@pytest.mark.parametrize(
    "argv", [["erase", "", "--tenant", "acme"], ["erase", "a@b.example", "--tenant", " "]]
)
def test_cli_erase_refuses_a_blank_identifier_or_tenant(argv, tmp_path, monkeypatch, capsys):
    from pipelines.cli import main
    from warehouse.privacy_requests import pending_erasures

    monkeypatch.setenv("CRM360_HOME", str(tmp_path))
    assert main(argv) == 2
    assert "non-empty identifier" in capsys.readouterr().err
    assert pending_erasures() == []


def test_cli_erase_refuses_a_tenant_not_in_the_registry(tmp_path, monkeypatch, capsys):
    from pipelines.cli import main
    from warehouse.privacy_requests import pending_erasures

    monkeypatch.setenv("CRM360_HOME", str(tmp_path))
    registry = tmp_path / "landing" / "tenants"
    registry.mkdir(parents=True)
    (registry / "tenants.csv").write_text(
        "tenant_id,name,country,timezone,currency\nacme,Acme,GB,Europe/London,GBP\n"
    )
    assert main(["erase", "a@b.example", "--tenant", "acmee"]) == 2
    err = capsys.readouterr().err
    assert "unknown tenant 'acmee'" in err and "holds: acme" in err
    assert pending_erasures() == []
    assert main(["erase", "a@b.example", "--tenant", "acme"]) == 0
    assert [r["tenant_id"] for r in pending_erasures()] == ["acme"]


def test_every_shipped_retention_policy_names_a_built_table_and_column(privacy_home: Path) -> None:
    """A policy on a table the build does not make would be skipped silently as 'missing';
    and a raw table with a policy whose staging model is a table keeps its rows there."""
    from warehouse.connection import warehouse
    from warehouse.retention import load_policies
    from warehouse.settings import REPO_ROOT

    policies, _ = load_policies(REPO_ROOT / "warehouse" / "retention.toml")
    with warehouse(read_only=True) as con:
        columns = {
            (f"{schema}.{table}", column)
            for schema, table, column in con.execute(
                "select schema_name, table_name, column_name from duckdb_columns() "
                "join duckdb_tables() using (database_name, schema_name, table_name)"
            ).fetchall()
        }
    assert [p for p in policies if (p.table, p.column) not in columns] == []
    tables = {table for table, _ in columns}
    covered = {p.table for p in policies}
    for policy in policies:
        schema, name = policy.table.split(".")
        staged = f"staging.stg_crm__{name}"
        if schema == "raw" and staged in tables:
            assert staged in covered, f"{staged} keeps what {policy.table}'s policy deletes"
