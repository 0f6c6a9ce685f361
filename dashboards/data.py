"""The Streamlit side of data access: one cached snapshot reader, cached query results.

The reader (``warehouse.snapshots.SnapshotReader``) is cached with ``st.cache_resource``:
one read-only DuckDB connection per process, reopened when the pointer moves to a new
snapshot (DESIGN.md decision 1). Query results are cached with ``st.cache_data`` under
the snapshot version, the query's name and its parameters, so a page renders from memory
after its first load and a new snapshot is picked up on the next rerun. Personal data is
masked here, once, for viewers whose role may not see it (dashboards/auth.py).
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from api.audit import AuditLog
from dashboards import queries
from dashboards.auth import Viewer, mask_frame
from warehouse.settings import get_settings
from warehouse.snapshots import SnapshotReader, read_pointer

_SETTINGS = get_settings()


@st.cache_resource(show_spinner=False)
def _reader(snapshots_dir: str) -> SnapshotReader:
    return SnapshotReader(get_settings())


def reader() -> SnapshotReader:
    """One snapshot reader per process (per snapshot folder), shared by every session."""
    return _reader(str(get_settings().snapshots_dir))


def snapshot_version() -> str | None:
    """The published snapshot's version (one small file read), or None before the first publish."""
    pointer = read_pointer(get_settings().snapshots_dir)
    return pointer.version if pointer else None


@st.cache_data(ttl=_SETTINGS.dashboard_cache_seconds, max_entries=2_000, show_spinner=False)
def _run(version: str, name: str, args: tuple[Any, ...]) -> pd.DataFrame:
    # ``version`` is part of the cache key only: a new snapshot means new entries.
    cursor = reader().connection()
    try:
        return getattr(queries, name)(cursor, *args)
    finally:
        cursor.close()


@st.cache_data(ttl=_SETTINGS.dashboard_cache_seconds, max_entries=50, show_spinner=False)
def _tables(version: str) -> dict[str, list[str]]:
    cursor = reader().connection()
    try:
        return queries.tables(cursor)
    finally:
        cursor.close()


def tables() -> dict[str, list[str]]:
    """Table -> columns of the current snapshot ({} before the first publish)."""
    version = snapshot_version()
    return _tables(version) if version else {}


def query(viewer: Viewer, name: str, *args: Any) -> pd.DataFrame:
    """Run ``queries.<name>(con, viewer.tenant_id, *args)``; PII masked for the viewer."""
    version = snapshot_version()
    if version is None:
        return pd.DataFrame()
    return mask_frame(_run(version, name, (viewer.tenant_id, *args)), viewer)


def query_global(name: str, *args: Any) -> pd.DataFrame:
    """A query that is not per tenant (snapshot metadata)."""
    version = snapshot_version()
    if version is None:
        return pd.DataFrame()
    return _run(version, name, tuple(args))


@st.cache_resource(show_spinner=False)
def _audit_log(ops_db_path: str) -> AuditLog:
    return AuditLog(get_settings())


def audit(
    viewer: Viewer, action: str, object_type: str | None, object_id: str | None, status: int = 200
) -> None:
    """Record a read of personal data in the API's audit log (same files, same columns)."""
    log = _audit_log(str(get_settings().ops_db_path))
    log.record(viewer.tenant_id, viewer.key_id, viewer.role, action, object_type, object_id, status)
    log.flush()  # a dashboard does a handful of these a minute: write through
