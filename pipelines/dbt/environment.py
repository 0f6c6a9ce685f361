"""The environment of a dbt subprocess: where the warehouse is, its key, where httpfs is.

dbt_project/profiles.yml reads these variables; this module is the one place that sets
them, from warehouse.settings (which alone reads CRM360_* settings). The key goes to the
child process only: it is never written to a file, and it is also exported as a
``DBT_ENV_SECRET_`` variable because dbt scrubs the values of such variables from every
log line and error message it emits (``dbt debug`` would otherwise print the attach
options).
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from warehouse.connection import httpfs_extension_path, load_key
from warehouse.settings import Settings, get_settings

# Set by this module, read by dbt_project/profiles.yml.
WAREHOUSE_VAR = "CRM360_WAREHOUSE"
KEY_VAR = "CRM360_ENCRYPTION_KEY"
HTTPFS_VAR = "CRM360_HTTPFS_PATH"
TARGET_VAR = "CRM360_DBT_TARGET"
SCRUB_VAR = "DBT_ENV_SECRET_CRM360_ENCRYPTION_KEY"

# `dbt parse` renders the profile but never connects; it gets this instead of a key
# when no key exists yet, so a fresh clone can load the Dagster definitions.
PARSE_ONLY_KEY = "parse-only-not-a-key"


def dbt_environment(settings: Settings | None = None, *, for_parse: bool = False) -> dict[str, str]:
    """Variables the dbt profile needs; the warehouse key is created on first use.

    With ``for_parse`` no key is created: an existing key is used (so the parse's profile
    hash matches the runs' and partial parsing stays warm), else a placeholder.
    """
    settings = settings or get_settings()
    if for_parse:
        try:
            key = load_key(settings)
        except Exception:  # no key yet: parsing does not need one
            key = PARSE_ONLY_KEY
    else:
        settings.warehouse_path.parent.mkdir(parents=True, exist_ok=True)
        key = load_key(settings, create=not settings.warehouse_path.exists())
    return {
        WAREHOUSE_VAR: str(settings.warehouse_path),
        KEY_VAR: key,
        SCRUB_VAR: key,
        HTTPFS_VAR: str(httpfs_extension_path()),
        TARGET_VAR: settings.dbt_target,
        "CRM360_DBT_MEMORY_LIMIT": settings.dbt_memory_limit,
        # When a Python asset sits between dbt models (identity/probabilistic_matches),
        # Dagster runs dbt in several steps; a singular test then runs only in the step
        # that builds all its parents, not (dbt's default "eager") in the first one.
        "DBT_INDIRECT_SELECTION": "buildable",
    }


@contextmanager
def dbt_environ(variables: Mapping[str, str]) -> Iterator[None]:
    """Expose ``variables`` to child processes started inside the block, then restore.

    dagster-dbt builds the subprocess environment from ``os.environ`` when ``cli()`` is
    called; this is the narrowest way to hand it the key without a file.
    """
    saved = {name: os.environ.get(name) for name in variables}
    os.environ.update(variables)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
