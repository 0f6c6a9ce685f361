"""The warehouse is encrypted at rest (DESIGN.md decision 3), also after ingestion.

A canary email goes through the real loader into raw tables and quarantine; after the
checkpoint its bytes must not appear in the warehouse file, its WAL or the loader's spill
directory. Opening the file without the key, or with a wrong one, must fail with
WarehouseKeyError and a message that says what to do.
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from warehouse.connection import WarehouseKeyError, warehouse
from warehouse.contract import CRM_ENTITIES, TENANT_COLUMNS
from warehouse.settings import get_settings

CANARY = "canary.7f3a9c@leak-detector.example"
KEY = "test-key-" + "1" * 40


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CRM360_HOME", str(tmp_path))
    monkeypatch.setenv("CRM360_ENCRYPTION_KEY", KEY)
    for name in ("CRM360_DATA_DIR", "CRM360_LANDING_DIR", "CRM360_WAREHOUSE", "CRM360_KEY_FILE"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


def _landing_with_canary(root: Path) -> None:
    (root / "tenants").mkdir(parents=True)
    (root / "tenants" / "tenants.csv").write_text(
        ",".join(c.name for c in TENANT_COLUMNS) + "\nt1,Tenant,DE,,,2024-01-01T00:00:00Z\n"
    )
    contacts = root / "crm" / "contacts"
    contacts.mkdir(parents=True)
    header = [c.name for c in CRM_ENTITIES["contacts"]]
    row = {name: "" for name in header}
    row.update(
        tenant_id="t1", source_system="crm", record_id="c1", updated_at="2024-01-01T00:00:00Z", email=CANARY
    )
    bad = dict(row, record_id="c2", date_of_birth="not a date")  # the canary in quarantine too
    lines = [",".join(header), ",".join(row[h] for h in header), ",".join(bad[h] for h in header)]
    (contacts / "contacts.csv").write_text("\n".join(lines) + "\n")
    events = root / "events" / "t1"
    events.mkdir(parents=True)
    message = {
        "messageId": "m1",
        "type": "identify",
        "userId": "u1",
        "timestamp": "2024-01-01T00:00:00Z",
        "traits": {"email": CANARY},
    }
    (events / "batch.jsonl").write_text(json.dumps(message) + "\n")


def _load_canary(env: Path) -> Path:
    from pipelines.ingest import load_landing

    _landing_with_canary(env / "landing")
    with warehouse() as con:
        report = load_landing(env / "landing", con)
        assert report.ok and report.totals()["loaded"] == 3
        assert con.execute(
            "SELECT count(*) FROM raw.quarantine WHERE payload LIKE ?", [f"%{CANARY}%"]
        ).fetchone()[0]
    return get_settings().warehouse_path


def test_canary_is_not_in_the_warehouse_bytes(env: Path) -> None:
    path = _load_canary(env)
    needle = CANARY.encode()
    assert path.stat().st_size > 0
    assert needle not in path.read_bytes()
    wal = path.with_name(path.name + ".wal")
    assert not wal.exists() or needle not in wal.read_bytes()
    for spilled in (get_settings().data_dir / "tmp").rglob("*"):
        assert not spilled.is_file() or needle not in spilled.read_bytes()
    # and it is there, for whoever holds the key
    with warehouse(read_only=True) as con:
        assert con.execute("SELECT email FROM raw.contacts").fetchall() == [(CANARY,)]


def test_opening_without_a_key_fails_clearly(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _load_canary(env)
    monkeypatch.delenv("CRM360_ENCRYPTION_KEY")
    monkeypatch.setenv("CRM360_KEY_FILE", str(env / "nowhere" / "crm360.key"))
    with pytest.raises(WarehouseKeyError, match="no encryption key"), warehouse(read_only=True):
        pass
    assert not (env / "nowhere" / "crm360.key").exists()  # opening never mints a key


def test_opening_with_a_wrong_key_fails_clearly(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _load_canary(env)
    monkeypatch.setenv("CRM360_ENCRYPTION_KEY", "not-the-key-" + "2" * 40)
    with pytest.raises(WarehouseKeyError, match="wrong or missing key"), warehouse(read_only=True):
        pass


def test_plain_duckdb_cannot_read_it(env: Path) -> None:
    path = _load_canary(env)
    with pytest.raises(duckdb.Error):
        con = duckdb.connect(str(path), read_only=True)
        con.execute("SELECT * FROM raw.contacts").fetchall()
