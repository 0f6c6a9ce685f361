"""Publishing serving snapshots: new file per version, atomic pointer, retention, readers."""

from __future__ import annotations

import os

import pytest

from tests.serving_fixtures import build_serving_warehouse, publish_fixture_snapshot
from warehouse.connection import load_key, open_encrypted
from warehouse.settings import Settings, get_settings
from warehouse.snapshots import (
    POINTER_NAME,
    SnapshotError,
    SnapshotReader,
    find_serving_tables,
    list_snapshots,
    open_snapshot,
    publish_snapshot,
    read_pointer,
    snapshot_info,
)


@pytest.fixture
def settings(tmp_path, monkeypatch) -> Settings:
    monkeypatch.setenv("CRM360_HOME", str(tmp_path))
    monkeypatch.setenv("CRM360_SNAPSHOTS_KEEP", "2")
    for name in ("CRM360_WAREHOUSE", "CRM360_DATA_DIR", "CRM360_KEY_FILE", "CRM360_ENCRYPTION_KEY"):
        monkeypatch.delenv(name, raising=False)
    return get_settings()


def test_publish_writes_an_encrypted_versioned_file_and_switches_the_pointer(settings):
    assert read_pointer(settings.snapshots_dir) is None
    info = publish_fixture_snapshot(settings)
    pointer = read_pointer(settings.snapshots_dir)
    assert pointer.version == info.version
    assert pointer.file == f"snapshot-{info.version}.duckdb" == info.path.name
    assert os.stat(info.path).st_mode & 0o077 == 0
    # Encrypted: without the key nothing opens.
    with pytest.raises(Exception, match=r"(?i)encrypt|key"):
        open_snapshot(info.path, "0" * 64)
    con = open_snapshot(info.path, load_key(settings))
    try:
        meta = snapshot_info(con, info.path)
        assert meta.version == info.version
        assert meta.tables["customer_360"] == 50
        assert meta.model_versions == {
            "lead_scores": ["lead-v1"],
            "churn_predictions": ["churn-v3"],
            "customer_value": ["clv-v2"],
        }
        assert con.execute("select count(*) from customer_identifiers").fetchone()[0] == 250
        # Read-only: a reader cannot change a published snapshot.
        with pytest.raises(Exception, match=r"(?i)read.only"):
            con.execute("delete from customer_360")
    finally:
        con.close()


def test_each_publish_is_a_new_file_and_old_ones_are_pruned(settings):
    infos = [publish_fixture_snapshot(settings, generation=g) for g in (1, 2, 3)]
    assert len({info.path for info in infos}) == 3
    kept = [path for _, path in list_snapshots(settings.snapshots_dir)]
    assert kept == [infos[1].path, infos[2].path]  # keep = 2, the current one included
    assert read_pointer(settings.snapshots_dir).version == infos[2].version
    leftovers = [p.name for p in settings.snapshots_dir.iterdir() if p.name.startswith(".")]
    assert leftovers == []


def test_a_failed_publish_leaves_the_pointer_alone(settings):
    good = publish_fixture_snapshot(settings)
    key = load_key(settings)
    con = open_encrypted(settings.warehouse_path, key)
    try:
        tables = find_serving_tables(con)
        with pytest.raises(SnapshotError):
            publish_snapshot(con, {"customer_360": tables["customer_360"]}, settings=settings)
        with pytest.raises(Exception, match=r"(?i)does not exist"):
            publish_snapshot(con, {**tables, "customer_value": "marts.no_such_table"}, settings=settings)
    finally:
        con.close()
    assert read_pointer(settings.snapshots_dir).version == good.version
    assert [p for p in settings.snapshots_dir.iterdir() if p.name.startswith(".building")] == []
    assert (settings.snapshots_dir / POINTER_NAME).exists()


def test_snapshot_without_scores_publishes(settings):
    info = publish_fixture_snapshot(settings, with_scores=False)
    assert "lead_scores" not in info.tables
    assert info.model_versions == {}


def test_reader_follows_the_pointer(settings):
    first = publish_fixture_snapshot(settings, generation=1)
    reader = SnapshotReader(settings)
    try:
        cur = reader.connection()
        assert cur.execute(
            "select first_name from customer_360 where customer_id = 'cus_0001' limit 1"
        ).fetchone() == ("First1g1",)
        assert reader.version == first.version
        second = publish_fixture_snapshot(settings, generation=2)
        cur = reader.connection()
        assert reader.version == second.version
        assert cur.execute(
            "select first_name from customer_360 where customer_id = 'cus_0001' limit 1"
        ).fetchone() == ("First1g2",)
    finally:
        reader.close()


def test_find_serving_tables_prefers_marts(settings):
    build_serving_warehouse(settings)
    con = open_encrypted(settings.warehouse_path, load_key(settings))
    try:
        found = find_serving_tables(con)
    finally:
        con.close()
    assert found["customer_360"] == '"wh"."marts"."customer_360"'
    assert found["lead_scores"] == '"wh"."ml"."lead_scores"'
