"""A small generated warehouse with the deterministic identity chain built, once per module.

Only what identity needs is built (seeds and models up to the merge log), so the
probabilistic tests stay near a minute on a busy 2-core machine.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.dbt.dbt_runner import DbtRunner

ENV = (
    "CRM360_ENCRYPTION_KEY",
    "CRM360_WAREHOUSE",
    "CRM360_DATA_DIR",
    "CRM360_KEY_FILE",
    "CRM360_LANDING_DIR",
    "CRM360_GROUND_TRUTH_DIR",
    "CRM360_IDENTITY_MODEL_DIR",
)
IDENTITY_CHAIN = "+int_identity_customer_id_changes"
# what the probabilistic edges change: rebuilt after each stage run
AFTER_STAGE = "int_identity_probabilistic_edges+,+int_identity_customer_id_changes"


@pytest.fixture(scope="module")
def identity_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    home = tmp_path_factory.mktemp("identity_home")
    saved = {name: os.environ.pop(name, None) for name in ENV}
    saved_home = os.environ.get("CRM360_HOME")
    os.environ["CRM360_HOME"] = str(home)
    try:
        from pipelines.generator import generate
        from pipelines.ingest.loader import load_landing
        from warehouse.connection import warehouse
        from warehouse.settings import get_settings

        settings = get_settings()
        generate("small", 42, settings.landing_dir, settings.ground_truth_dir)
        with warehouse() as con:
            load_landing(settings.landing_dir, con)
        dbt = DbtRunner(home)
        # one dbt invocation (each costs a ~5 s floor): seeds and models, no tests
        dbt("build", "--exclude", "resource_type:test", "-s", IDENTITY_CHAIN, "stg_crm__accounts")
        yield home
    finally:
        for name, value in saved.items():
            if value is not None:
                os.environ[name] = value
        if saved_home is None:
            os.environ.pop("CRM360_HOME", None)
        else:
            os.environ["CRM360_HOME"] = saved_home
