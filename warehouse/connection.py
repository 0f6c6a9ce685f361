"""Connections to the encrypted warehouse (DESIGN.md decisions 1 and 3).

The warehouse is a DuckDB database encrypted with AES-GCM. DuckDB's built-in crypto
module can only read encrypted files; writing needs the OpenSSL one that ships with
the httpfs extension, which we load from the ``duckdb-ext-httpfs`` wheel's file path
because nothing may be downloaded at run time.

The key comes from ``CRM360_ENCRYPTION_KEY`` or from a key file that is created with
owner-only permissions on first use. It is never logged.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from warehouse.settings import Settings, get_settings

WAREHOUSE_ALIAS = "wh"


class WarehouseKeyError(RuntimeError):
    """The warehouse cannot be opened because its key is missing or wrong."""


def httpfs_extension_path() -> Path:
    """The httpfs extension file shipped inside the duckdb-ext-httpfs wheel."""
    import duckdb_ext  # namespace package installed by duckdb-ext-httpfs

    for base in duckdb_ext.__path__:
        found = sorted(Path(base).glob(f"extensions/v{duckdb.__version__}/*/httpfs.duckdb_extension"))
        if found:
            return found[0]
    raise RuntimeError(
        f"httpfs for duckdb {duckdb.__version__} not found; install duckdb-ext-httpfs=={duckdb.__version__}.*"
    )


def load_key(settings: Settings | None = None, *, create: bool = False) -> str:
    """Return the encryption key: the environment wins, then the key file.

    With ``create`` a missing key file is made, readable by its owner only. Without it,
    a missing key is an error: opening existing data must never mint a new key.
    """
    settings = settings or get_settings()
    if settings.encryption_key:
        return settings.encryption_key
    path = settings.key_file
    if path.exists():
        return path.read_text().strip()
    if not create:
        raise WarehouseKeyError(
            f"no encryption key: set CRM360_ENCRYPTION_KEY or provide the key file {path}"
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key + "\n")
    return key


def attach_sql(path: Path, alias: str, key: str, *, read_only: bool = False) -> str:
    """The ATTACH statement for an encrypted database. The key is a literal: never log this."""
    escaped_key = key.replace("'", "''")
    escaped_path = str(path).replace("'", "''")
    options = f"ENCRYPTION_KEY '{escaped_key}'" + (", READ_ONLY" if read_only else "")
    return f"ATTACH '{escaped_path}' AS {alias} ({options})"


def open_encrypted(path: Path, key: str, *, read_only: bool = False, alias: str = WAREHOUSE_ALIAS):
    """An in-memory DuckDB connection with the encrypted file attached and selected."""
    con = duckdb.connect()
    try:
        con.execute(f"LOAD '{httpfs_extension_path()}'")
        con.execute(attach_sql(path, alias, key, read_only=read_only))
    except duckdb.Error as exc:
        con.close()
        message = str(exc)
        if "encrypt" in message.lower() or "key" in message.lower():
            raise WarehouseKeyError(
                f"cannot open encrypted database {path}: wrong or missing key ({message.splitlines()[0]})"
            ) from None
        raise
    con.execute(f"USE {alias}")
    return con


@contextmanager
def warehouse(
    read_only: bool = False, settings: Settings | None = None
) -> Iterator[duckdb.DuckDBPyConnection]:
    """Open the warehouse; the only writer is the pipeline (DESIGN.md decision 1)."""
    settings = settings or get_settings()
    if read_only and not settings.warehouse_path.exists():
        raise FileNotFoundError(f"no warehouse at {settings.warehouse_path}: run `make build` first")
    settings.warehouse_path.parent.mkdir(parents=True, exist_ok=True)
    key = load_key(settings, create=not settings.warehouse_path.exists())
    con = open_encrypted(settings.warehouse_path, key, read_only=read_only)
    try:
        yield con
    finally:
        con.close()
