"""A copy of the small built warehouse (tests/conftest.py) and its ground truth, once per module.

The deterministic identity chain is built there already, so the probabilistic tests start
from it without a dbt invocation of their own.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import HOME_ENV, GeneratedDataset, copy_home

# what the probabilistic edges change: rebuilt after each stage run
AFTER_STAGE = "int_identity_probabilistic_edges+,+int_identity_customer_id_changes"


@pytest.fixture(scope="module")
def identity_home(
    built_small_home: Path, small_dataset: GeneratedDataset, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Path]:
    home = tmp_path_factory.mktemp("identity_home")
    copy_home(built_small_home, home)
    shutil.copytree(small_dataset.truth, home / "ground_truth")
    saved = {name: os.environ.pop(name, None) for name in HOME_ENV}
    saved_home = os.environ.get("CRM360_HOME")
    os.environ["CRM360_HOME"] = str(home)
    try:
        yield home
    finally:
        for name, value in saved.items():
            if value is not None:
                os.environ[name] = value
        if saved_home is None:
            os.environ.pop("CRM360_HOME", None)
        else:
            os.environ["CRM360_HOME"] = saved_home
