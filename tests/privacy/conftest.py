"""A private copy, per test, of the small warehouse built once (tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import copy_home

_ENV = (
    "CRM360_ENCRYPTION_KEY",
    "CRM360_WAREHOUSE",
    "CRM360_DATA_DIR",
    "CRM360_KEY_FILE",
    "CRM360_LANDING_DIR",
    "CRM360_GROUND_TRUTH_DIR",
    "CRM360_SNAPSHOTS_DIR",
    "CRM360_OPS_DB",
    "CRM360_SUPPRESSION_KEY_FILE",
    "CRM360_RETENTION_CONFIG",
)


@pytest.fixture
def privacy_home(built_small_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A private copy of the built home, with CRM360_HOME pointing at it."""
    home = tmp_path / "home"
    copy_home(built_small_home, home)
    monkeypatch.setenv("CRM360_HOME", str(home))
    for name in _ENV:
        monkeypatch.delenv(name, raising=False)
    yield home
