"""A small warehouse built once (generate -> load -> dbt build), copied per test."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.pipelines.conftest import small_dataset  # noqa: F401  (the shared session fixture)

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


@pytest.fixture(scope="session")
def built_small_home(small_dataset, tmp_path_factory: pytest.TempPathFactory) -> Path:  # noqa: F811
    """CRM360_HOME with the small data set loaded and built by dbt (read-only: copy it)."""
    home = tmp_path_factory.mktemp("privacy_built")
    mp = pytest.MonkeyPatch()
    try:
        mp.setenv("CRM360_HOME", str(home))
        for name in _ENV:
            mp.delenv(name, raising=False)
        from pipelines.dbt.cli import run_dbt
        from pipelines.ingest.loader import load_landing
        from warehouse.connection import warehouse
        from warehouse.settings import get_settings

        shutil.copytree(small_dataset.landing, home / "landing")
        settings = get_settings()
        with warehouse() as con:
            load_landing(settings.landing_dir, con)
        completed = run_dbt(
            ["build", "--exclude", "resource_type:test", "resource_type:unit_test"],
            home=home,
            target_path=home / "dbt_target",
            log_path=home / "dbt_logs",
            capture=True,
        )
        assert completed.returncode == 0, completed.stdout[-4000:]
    finally:
        mp.undo()
    return home


@pytest.fixture
def privacy_home(built_small_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A private copy of the built home, with CRM360_HOME pointing at it."""
    home = tmp_path / "home"
    shutil.copytree(built_small_home, home, ignore=shutil.ignore_patterns("dbt_logs"))
    monkeypatch.setenv("CRM360_HOME", str(home))
    for name in _ENV:
        monkeypatch.delenv(name, raising=False)
    yield home
