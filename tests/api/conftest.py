"""A published synthetic snapshot, API keys for every role, and a running test client."""

from __future__ import annotations

import base64
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from tests.serving_fixtures import publish_fixture_snapshot
from warehouse.keys import ROLES, create_key
from warehouse.settings import Settings, get_settings


@contextmanager
def _env(**values: str) -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def settings_in(home: Path, **env: str) -> Settings:
    """Settings rooted in ``home`` (as CRM360_HOME would), without leaking into os.environ."""
    with _env(CRM360_HOME=str(home), CRM360_SNAPSHOT_POLL_SECONDS="0.05", **env):
        for name in ("CRM360_WAREHOUSE", "CRM360_DATA_DIR", "CRM360_KEY_FILE", "CRM360_ENCRYPTION_KEY"):
            os.environ.pop(name, None)
        return get_settings()


@pytest.fixture(scope="session")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    settings = settings_in(tmp_path_factory.mktemp("crm360"))
    publish_fixture_snapshot(settings)
    return settings


@pytest.fixture(scope="session")
def keys(settings: Settings) -> dict[str, str]:
    """A key per role for tenant acme, plus ``other_admin`` and ``other_ingest`` for globex."""
    found = {role: create_key("acme", role, f"test {role}", settings)[1] for role in ROLES}
    found["other_admin"] = create_key("globex", "admin", "test", settings)[1]
    found["other_ingest"] = create_key("globex", "ingest", "test", settings)[1]
    for role in ("app", "support", "sales"):
        found[f"other_{role}"] = create_key("globex", role, "test", settings)[1]
    return found


@pytest.fixture(scope="session")
def client(settings: Settings, keys: dict[str, str]) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def basic(key: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{key}:".encode()).decode()}


def flush_audit(client: TestClient) -> None:
    client.app.state.crm360.audit_log.flush()
