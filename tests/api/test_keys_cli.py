"""``crm360 keys create | list | revoke``: printed once, stored hashed, revocable."""

from __future__ import annotations

import sqlite3

import pytest

from pipelines.cli import main
from warehouse.keys import verify_key
from warehouse.settings import get_settings


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("CRM360_HOME", str(tmp_path))
    for name in ("CRM360_WAREHOUSE", "CRM360_DATA_DIR", "CRM360_KEY_FILE", "CRM360_OPS_DB"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


def test_create_list_revoke(home, capsys):
    assert main(["keys", "create", "--tenant", "acme", "--role", "app", "--name", "website"]) == 0
    key = capsys.readouterr().out.strip().splitlines()[-1]
    settings = get_settings()
    record = verify_key(key, settings)
    assert (record.tenant_id, record.role, record.name) == ("acme", "app", "website")
    # Stored hashed: the secret appears nowhere in the store.
    secret = key.split("_", 2)[2]  # crm360_<key_id>_<secret>
    dump = "\n".join(sqlite3.connect(settings.ops_db_path).iterdump())
    assert secret not in dump
    assert record.key_id in dump

    assert main(["keys", "list"]) == 0
    listing = capsys.readouterr().out
    assert record.key_id in listing and "website" in listing and secret not in listing

    assert main(["keys", "revoke", record.key_id]) == 0
    assert verify_key(key, settings) is None
    assert main(["keys", "revoke", record.key_id]) == 1


def test_create_rejects_unknown_roles_and_unsafe_tenants(home, capsys):
    with pytest.raises(SystemExit):
        main(["keys", "create", "--tenant", "acme", "--role", "root"])
    assert main(["keys", "create", "--tenant", "../etc", "--role", "app"]) == 2
    assert "invalid tenant id" in capsys.readouterr().err
