"""Fixtures shared across the test packages.

A dbt invocation costs seconds however little data it reads (a full build of the project,
about twenty), so the warehouses that tests in several packages need are built once per
session here, read-only: a test that changes one works on a copy (``copy_home``).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.dbt.dbt_runner import DbtRunner

if TYPE_CHECKING:
    from dagster import ExecuteInProcessResult
    from xdist.remote import Producer
    from xdist.scheduler.protocol import Scheduling

# Settings that would point a home's warehouse, key or data somewhere else: every fixture
# that makes a home clears them.
HOME_ENV = (
    "CRM360_ENCRYPTION_KEY",
    "CRM360_WAREHOUSE",
    "CRM360_DATA_DIR",
    "CRM360_KEY_FILE",
    "CRM360_LANDING_DIR",
    "CRM360_GROUND_TRUTH_DIR",
    "CRM360_SNAPSHOTS_DIR",
    "CRM360_OPS_DB",
    "CRM360_MODELS_DIR",
    "CRM360_IDENTITY_MODEL_DIR",
    "CRM360_SUPPRESSION_KEY_FILE",
    "CRM360_RETENTION_CONFIG",
)


def use_home(mp: pytest.MonkeyPatch, home: Path) -> None:
    """Point the whole platform at ``home`` (undone with ``mp``)."""
    mp.setenv("CRM360_HOME", str(home))
    for name in HOME_ENV:
        mp.delenv(name, raising=False)


@pytest.hookimpl(optionalhook=True)  # a hook of pytest-xdist, absent under -p no:xdist
def pytest_xdist_make_scheduler(config: pytest.Config, log: Producer) -> Scheduling | None:
    """Parallel runs (``-n``) send each worker whole groups of tests: see tests/scheduling.py."""
    if config.getvalue("dist") != "load":  # another --dist asked for by name
        return None
    from tests.scheduling import GroupScheduling

    return GroupScheduling(config, log)


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point the whole platform at tmp_path, with a test key."""
    use_home(monkeypatch, tmp_path)
    monkeypatch.setenv("CRM360_ENCRYPTION_KEY", "test-key-" + "0" * 40)
    return tmp_path


@pytest.fixture
def crm360_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A private CRM360_HOME: warehouse, key, landing and model registry all under tmp_path."""
    use_home(monkeypatch, tmp_path)
    yield tmp_path


@pytest.fixture
def dbt(crm360_home: Path) -> DbtRunner:
    """dbt against the private home's warehouse."""
    return DbtRunner(crm360_home)


def copy_home(built: Path, home: Path) -> None:
    """Copy a built CRM360_HOME (landing, warehouse, key, dbt's target) into ``home``."""
    shutil.copytree(built, home, ignore=shutil.ignore_patterns("dbt_logs"), dirs_exist_ok=True)


@dataclass(frozen=True)
class GeneratedDataset:
    landing: Path
    truth: Path
    summary: dict
    seed: int


@pytest.fixture(scope="session")
def small_dataset(tmp_path_factory: pytest.TempPathFactory) -> GeneratedDataset:
    """The small demo data set, generated once (about two seconds), so every test that needs
    realistic landing files and their ground truth reads the same copy. Treat it as read-only."""
    from pipelines.generator import generate

    root = tmp_path_factory.mktemp("small_dataset")
    seed = 42
    summary = generate(scale="small", seed=seed, out=root / "landing", truth_out=root / "ground_truth")
    return GeneratedDataset(landing=root / "landing", truth=root / "ground_truth", summary=summary, seed=seed)


@pytest.fixture(scope="session")
def built_small_home(small_dataset: GeneratedDataset, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """CRM360_HOME with the small data set loaded and built by ``dbt build``, every model and
    dbt test passing (read-only: copy it). The ground truth stays out of the home: the
    privacy tests search every file under theirs for an erased person."""
    home = tmp_path_factory.mktemp("small_built")
    mp = pytest.MonkeyPatch()
    try:
        use_home(mp, home)
        from pipelines.ingest.loader import load_landing
        from warehouse.connection import warehouse
        from warehouse.settings import get_settings

        shutil.copytree(small_dataset.landing, home / "landing")
        with warehouse() as con:
            load_landing(get_settings().landing_dir, con)
        DbtRunner(home)("build")  # fails on any model error or failing test
    finally:
        mp.undo()
    return home


@dataclass(frozen=True)
class DagsterBuild:
    home: Path
    result: ExecuteInProcessResult


@pytest.fixture(scope="session")
def handmade_built_by_dagster(tmp_path_factory: pytest.TempPathFactory) -> DagsterBuild:
    """CRM360_HOME with the hand-made raw rows built by the dbt assets through Dagster, as
    `crm360 build` runs them (read-only: copy it), and the run's result."""
    home = tmp_path_factory.mktemp("handmade_built")
    mp = pytest.MonkeyPatch()
    try:
        use_home(mp, home)
        from dagster import DagsterInstance, materialize

        from pipelines.dbt import crm360_dbt_assets
        from pipelines.dbt.resources import dbt_resource
        from tests.dbt.handmade import load_handmade
        from warehouse.connection import warehouse

        with warehouse() as con:
            load_handmade(con)
        result = materialize(
            [crm360_dbt_assets], resources={"dbt": dbt_resource()}, instance=DagsterInstance.ephemeral()
        )
    finally:
        mp.undo()
    return DagsterBuild(home=home, result=result)
