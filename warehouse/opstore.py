"""The operational store: API keys, privacy requests, idempotency records.

These are written by the API (several worker processes) and by the ``crm360 keys``
command while the API runs, so they can live neither in a read-only serving snapshot
nor in the single-writer warehouse (DESIGN.md decision 1). A small SQLite file in WAL
mode fits: it locks across processes, commits durably, and needs nothing installed.
It holds no secrets (keys are stored as SHA-256 hashes); erasure requests hold the
subject's identifiers, which the privacy pipeline needs. The file is created
owner-only (0600). The audit log sits beside it as append-only files (api/audit.py).
docs/api.md explains the choice.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from warehouse.settings import Settings, get_settings

SCHEMA = """
create table if not exists api_keys (
    key_id text primary key,
    secret_sha256 text not null,
    tenant_id text not null,
    role text not null,
    name text not null default '',
    created_at text not null,
    revoked_at text
);
create table if not exists erasure_requests (
    request_id text primary key,
    tenant_id text not null,
    identifiers text not null,
    reason text,
    status text not null,
    received_at text not null,
    updated_at text not null,
    key_id text not null,
    detail text
);
create index if not exists erasure_requests_status on erasure_requests (status);
create table if not exists erasure_audit (
    request_id text not null,
    tenant_id text not null,
    status text not null,
    counts text not null,
    verified_at text,
    recorded_at text not null
);
create table if not exists suppressed_identifiers (
    tenant_id text not null,
    kind text not null,
    digest text not null,
    request_id text not null,
    added_at text not null,
    primary key (tenant_id, kind, digest)
);
create table if not exists retraining_flags (
    flag_id integer primary key autoincrement,
    tenant_id text not null,
    request_id text,
    reason text not null,
    tables text not null,
    flagged_at text not null,
    cleared_at text
);
create table if not exists idempotency (
    tenant_id text not null,
    endpoint text not null,
    idempotency_key text not null,
    status integer not null,
    body text not null,
    created_at text not null,
    primary key (tenant_id, endpoint, idempotency_key)
);
"""

_initialised: set[Path] = set()


def _initialise(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        # Create it owner-only before SQLite does, with the process umask.
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
    con = sqlite3.connect(path, timeout=30)
    try:
        con.execute("pragma journal_mode=wal")
        con.executescript(SCHEMA)
    finally:
        con.close()
    _initialised.add(path)


@contextmanager
def ops_db(settings: Settings | None = None) -> Iterator[sqlite3.Connection]:
    """A connection to the operational store in one transaction: commit on success."""
    path = (settings or get_settings()).ops_db_path
    if path not in _initialised:
        _initialise(path)
    con = sqlite3.connect(path, timeout=30, isolation_level=None)
    try:
        con.execute("pragma synchronous=full")
        con.execute("pragma busy_timeout=30000")
        con.execute("begin immediate")
        try:
            yield con
        except BaseException:
            con.execute("rollback")
            raise
        con.execute("commit")
    finally:
        con.close()
