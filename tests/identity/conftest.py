"""A copy of the small built warehouse (tests/conftest.py) and its ground truth, once per module.

The deterministic identity chain is built there already, so the probabilistic tests start
from it without a dbt invocation of their own.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import GeneratedDataset, copy_home, use_home

# what the probabilistic edges change: rebuilt after each stage run
AFTER_STAGE = "int_identity_probabilistic_edges+,+int_identity_customer_id_changes"


@pytest.fixture(scope="module")
def identity_home(
    built_small_home: Path, small_dataset: GeneratedDataset, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Path]:
    home = tmp_path_factory.mktemp("identity_home")
    copy_home(built_small_home, home)
    shutil.copytree(small_dataset.truth, home / "ground_truth")
    mp = pytest.MonkeyPatch()
    use_home(mp, home)
    try:
        yield home
    finally:
        mp.undo()
