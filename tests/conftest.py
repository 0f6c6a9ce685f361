"""Fixtures shared across the test packages."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.dbt.dbt_runner import DbtRunner


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point the whole platform at tmp_path, with a test key."""
    monkeypatch.setenv("CRM360_HOME", str(tmp_path))
    monkeypatch.setenv("CRM360_ENCRYPTION_KEY", "test-key-" + "0" * 40)
    for name in ("CRM360_DATA_DIR", "CRM360_LANDING_DIR", "CRM360_WAREHOUSE", "CRM360_KEY_FILE"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


@pytest.fixture
def crm360_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A private CRM360_HOME: warehouse, key, landing and model registry all under tmp_path."""
    monkeypatch.setenv("CRM360_HOME", str(tmp_path))
    for name in (
        "CRM360_ENCRYPTION_KEY",
        "CRM360_WAREHOUSE",
        "CRM360_DATA_DIR",
        "CRM360_KEY_FILE",
        "CRM360_LANDING_DIR",
        "CRM360_GROUND_TRUTH_DIR",
        "CRM360_MODELS_DIR",
    ):
        monkeypatch.delenv(name, raising=False)
    yield tmp_path


@pytest.fixture
def dbt(crm360_home: Path) -> DbtRunner:
    """dbt against the private home's warehouse."""
    return DbtRunner(crm360_home)
