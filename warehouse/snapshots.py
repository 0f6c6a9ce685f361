"""Serving snapshots: versioned, encrypted, read-only copies of the serving tables.

The pipeline is the warehouse's only writer (DESIGN.md decision 1), so the API and the
dashboards never open the warehouse. After the marts and scores pass their checks,
:func:`publish_snapshot` copies the serving tables into a *new* encrypted DuckDB file
whose name carries the version, records the build time, row counts and model versions
in ``snapshot_info``, fsyncs it, and then switches the pointer file ``CURRENT``
atomically (write a temp file, fsync, ``os.replace``, fsync the folder). A reader
therefore sees either the old snapshot or the new one, never a half-built file.

A file is never replaced in place: DuckDB caches one database per path inside a
process, so a reader that reopened a replaced path could keep seeing the old data.
The last ``keep`` published snapshots stay on disk so that a reader that read the
pointer just before a switch can still open the file it names; older ones are deleted.

Readers call :func:`read_pointer` (cheap: one small file) to notice a new version and
:func:`open_snapshot` to open it read-only; :class:`SnapshotReader` packages both for
code that wants "the current snapshot" without thinking about versions.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from warehouse.connection import attach_sql, load_key, open_encrypted
from warehouse.settings import Settings, get_settings

POINTER_NAME = "CURRENT"
SNAPSHOT_ALIAS = "snap"
META_TABLE = "snapshot_info"
_FILE_RE = re.compile(r"^snapshot-(?P<version>\d{8}T\d{12}Z-[0-9a-f]{6})\.duckdb$")
_BUILDING_PREFIX = ".building-"

# The serving contract (DESIGN.md): a snapshot holds every table of the marts and ML
# schemas (what the API serves and what the dashboards chart). These two are required;
# the API reads the others when present (scores arrive with the ML issue): customer_aliases
# or customer_merges, customer_timeline, segments/segment_members, the score tables.
REQUIRED_TABLES: tuple[str, ...] = ("customer_360", "customer_identifiers")
SCORE_TABLES: tuple[str, ...] = ("lead_scores", "churn_predictions", "customer_value")
# Schemas copied, in order of precedence when two hold a table of the same name.
SOURCE_SCHEMAS: tuple[str, ...] = ("marts", "ml")


class SnapshotError(RuntimeError):
    """A snapshot cannot be published or opened."""


@dataclass(frozen=True)
class Pointer:
    """What ``CURRENT`` says: the version and file name of the published snapshot."""

    version: str
    file: str
    published_at: str

    def path(self, snapshots_dir: Path) -> Path:
        return snapshots_dir / self.file


@dataclass(frozen=True)
class SnapshotInfo:
    version: str
    path: Path
    built_at: datetime
    tables: dict[str, int] = field(default_factory=dict)  # table -> row count
    model_versions: dict[str, list[str]] = field(default_factory=dict)  # score table -> versions
    sources: dict[str, str] = field(default_factory=dict)  # table -> warehouse relation copied


def new_version(now: datetime | None = None) -> str:
    """A sortable, unique version: UTC time to the microsecond plus a random suffix."""
    now = now or datetime.now(UTC)
    return now.strftime("%Y%m%dT%H%M%S%fZ") + "-" + secrets.token_hex(3)


def snapshot_file_name(version: str) -> str:
    return f"snapshot-{version}.duckdb"


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _fsync_path(path: Path, *, directory: bool = False) -> None:
    fd = os.open(path, os.O_RDONLY | (os.O_DIRECTORY if directory else 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_pointer(snapshots_dir: Path, pointer: Pointer) -> None:
    """Switch ``CURRENT`` atomically: temp file, fsync, rename over, fsync the folder."""
    target = snapshots_dir / POINTER_NAME
    temp = snapshots_dir / f".{POINTER_NAME}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
    payload = json.dumps(
        {"version": pointer.version, "file": pointer.file, "published_at": pointer.published_at}
    ).encode()
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, payload)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(temp, target)
    _fsync_path(snapshots_dir, directory=True)


def read_pointer(snapshots_dir: Path | None = None) -> Pointer | None:
    """The published snapshot, or None when nothing has been published yet."""
    snapshots_dir = snapshots_dir or get_settings().snapshots_dir
    try:
        raw = (snapshots_dir / POINTER_NAME).read_bytes()
    except FileNotFoundError:
        return None
    data = json.loads(raw)
    return Pointer(version=data["version"], file=data["file"], published_at=data["published_at"])


def list_snapshots(snapshots_dir: Path) -> list[tuple[str, Path]]:
    """Published snapshot files as (version, path), oldest first."""
    if not snapshots_dir.exists():
        return []
    found = []
    for path in snapshots_dir.iterdir():
        match = _FILE_RE.match(path.name)
        if match:
            found.append((match["version"], path))
    return sorted(found)


def find_serving_tables(
    con: duckdb.DuckDBPyConnection, schemas: Iterable[str] = SOURCE_SCHEMAS
) -> dict[str, str]:
    """Every table and view of ``schemas`` in the warehouse: serving name -> relation to copy.

    Views are copied as tables (a snapshot is self-contained). The first schema wins
    when two hold a relation of the same name.
    """
    database = con.execute("select current_database()").fetchone()[0]
    rows = con.execute(
        "select table_schema, table_name from information_schema.tables "
        "where table_catalog = ? and table_type in ('BASE TABLE', 'VIEW')",
        [database],
    ).fetchall()
    order = list(schemas)
    found: dict[str, str] = {}
    for schema, table in sorted((r for r in rows if r[0] in order), key=lambda r: (order.index(r[0]), r[1])):
        found.setdefault(table, f"{_quote(database)}.{_quote(schema)}.{_quote(table)}")
    return found


def _model_versions(
    con: duckdb.DuckDBPyConnection, alias: str, tables: Iterable[str]
) -> dict[str, list[str]]:
    versions = {}
    for table in tables:
        columns = {
            row[0]
            for row in con.execute(
                "select column_name from information_schema.columns where table_catalog = ? and table_name = ?",
                [alias, table],
            ).fetchall()
        }
        if "model_version" in columns:
            rows = con.execute(
                f"select distinct model_version::varchar from {alias}.main.{_quote(table)} "
                "where model_version is not null order by 1"
            ).fetchall()
            versions[table] = [row[0] for row in rows]
    return versions


def _derive_segments(con: duckdb.DuckDBPyConnection, alias: str, settings: Settings) -> dict[str, int]:
    """Segments from customer_360 when the warehouse has no segment mart of its own.

    Each lifecycle stage, RFM segment and tag that customer_360 carries becomes a segment
    (``lifecycle:customer``, ``rfm:champions``, ``tag:high_value``), and so does every
    segment saved in the dashboards (``saved:<name>``), its members selected from this
    snapshot's customer_360 by the same statement the dashboards preview it with.
    """
    columns = {
        row[0]
        for row in con.execute(
            "select column_name from information_schema.columns where table_catalog = ? and table_name = ?",
            [alias, "customer_360"],
        ).fetchall()
    }
    parts = []
    if "lifecycle_stage" in columns:
        parts.append(
            "select tenant_id, 'lifecycle:' || lifecycle_stage as segment_id, customer_id "
            "from c360 where lifecycle_stage is not null"
        )
    if "rfm_segment" in columns:
        parts.append(
            "select tenant_id, 'rfm:' || rfm_segment, customer_id from c360 where rfm_segment is not null"
        )
    if "tags" in columns:
        parts.append("select tenant_id, 'tag:' || unnest(tags), customer_id from c360 where tags is not null")
    if not parts:
        return {}
    target = f"{alias}.main"
    con.execute(
        f"create table {target}.segment_members as with c360 as (select * from {target}.customer_360) "
        f"select distinct * from ({' union all '.join(parts)}) order by tenant_id, segment_id, customer_id"
    )
    con.execute(
        f"create table {target}.segments as select tenant_id, segment_id, "
        "split_part(segment_id, ':', 1) as kind, replace(split_part(segment_id, ':', 2), '_', ' ') as name, "
        "'derived from customer_360.' || case split_part(segment_id, ':', 1) when 'lifecycle' then 'lifecycle_stage' "
        "when 'rfm' then 'rfm_segment' else 'tags' end as description "
        f"from (select distinct tenant_id, segment_id from {target}.segment_members) order by all"
    )
    _publish_saved_segments(con, target, settings)
    return {
        table: con.execute(f"select count(*) from {target}.{table}").fetchone()[0]
        for table in ("segment_members", "segments")
    }


def _publish_saved_segments(con: duckdb.DuckDBPyConnection, target: str, settings: Settings) -> None:
    from warehouse.segments import SEGMENT_MEMBERS_SQL, list_segments, segment_params

    # The statement names customer_360: a CTE of that name points it at the new snapshot.
    members_sql = f"with customer_360 as (select * from {target}.customer_360) {SEGMENT_MEMBERS_SQL}"
    for segment in list_segments(settings=settings):
        con.execute(
            f"insert into {target}.segment_members select distinct ?, ?, customer_id from ({members_sql})",
            [segment.tenant_id, segment.segment_id, *segment_params(segment.tenant_id, segment.filters)],
        )
        con.execute(
            f"insert into {target}.segments values (?, ?, 'saved', ?, ?)",
            [
                segment.tenant_id,
                segment.segment_id,
                segment.name,
                segment.description or segment.filters.describe(),
            ],
        )


def publish_snapshot(
    con: duckdb.DuckDBPyConnection,
    tables: Mapping[str, str],
    *,
    settings: Settings | None = None,
    keep: int | None = None,
    model_versions: Mapping[str, list[str]] | None = None,
) -> SnapshotInfo:
    """Copy ``tables`` (serving name -> relation readable by ``con``) into a new snapshot.

    ``con`` is a connection that can write: the pipeline's warehouse connection (the
    httpfs extension must be loaded, as :func:`warehouse.connection.open_encrypted` does).
    Returns the published snapshot's info after the pointer has switched to it.
    """
    settings = settings or get_settings()
    keep = settings.snapshots_keep if keep is None else keep
    missing = [name for name in REQUIRED_TABLES if name not in tables]
    if missing:
        raise SnapshotError(f"cannot publish a snapshot without {', '.join(missing)}")
    snapshots_dir = settings.snapshots_dir
    snapshots_dir.mkdir(parents=True, exist_ok=True)
    key = load_key(settings, create=True)
    version = new_version()
    building = snapshots_dir / f"{_BUILDING_PREFIX}{version}.duckdb"
    final = snapshots_dir / snapshot_file_name(version)
    alias = f"snap_build_{secrets.token_hex(4)}"
    built_at = datetime.now(UTC)
    counts: dict[str, int] = {}
    con.execute(attach_sql(building, alias, key))
    try:
        for name, relation in tables.items():
            columns = {row[0] for row in con.execute(f"select * from {relation} limit 0").description or []}
            # Physical order by tenant and customer keeps DuckDB's zone maps useful for
            # the per-customer reads (timeline pages) that are not served from memory.
            order = [c for c in ("tenant_id", "customer_id", "occurred_at") if c in columns]
            order_by = f" order by {', '.join(_quote(c) for c in order)}" if order else ""
            con.execute(f"create table {alias}.main.{_quote(name)} as select * from {relation}{order_by}")
            counts[name] = con.execute(f"select count(*) from {alias}.main.{_quote(name)}").fetchone()[0]
        if "segment_members" not in tables and "segments" not in tables:
            counts.update(_derive_segments(con, alias, settings))
        versions = dict(model_versions or {})
        for table, found in _model_versions(con, alias, [t for t in SCORE_TABLES if t in tables]).items():
            versions.setdefault(table, found)
        con.execute(
            f"create table {alias}.main.{META_TABLE} (version varchar, built_at timestamptz, "
            "tables json, model_versions json, sources json)"
        )
        con.execute(
            f"insert into {alias}.main.{META_TABLE} values (?, ?, ?, ?, ?)",
            [version, built_at, json.dumps(counts), json.dumps(versions), json.dumps(dict(tables))],
        )
        con.execute(f"checkpoint {alias}")
    except BaseException:
        with contextlib.suppress(duckdb.Error):
            con.execute(f"detach {alias}")
        building.unlink(missing_ok=True)
        raise
    con.execute(f"detach {alias}")
    os.chmod(building, 0o600)
    _fsync_path(building)
    os.replace(building, final)
    _fsync_path(snapshots_dir, directory=True)
    write_pointer(
        snapshots_dir,
        Pointer(version=version, file=final.name, published_at=datetime.now(UTC).isoformat()),
    )
    prune_snapshots(snapshots_dir, keep)
    return SnapshotInfo(
        version=version,
        path=final,
        built_at=built_at,
        tables=counts,
        model_versions=versions,
        sources=dict(tables),
    )


def publish_from_warehouse(settings: Settings | None = None, *, threads: int | None = 1) -> SnapshotInfo:
    """Open the warehouse read-only and publish every serving table: what the asset does.

    ``threads`` caps DuckDB's threads for the copy. The API serves from the same machine
    while a snapshot is published, so by default the copy takes one core, not all.
    """
    from warehouse.connection import warehouse

    settings = settings or get_settings()
    with warehouse(read_only=True, settings=settings) as con:
        if threads:
            con.execute(f"set threads = {int(threads)}")
        return publish_snapshot(con, find_serving_tables(con), settings=settings)


def prune_snapshots(snapshots_dir: Path, keep: int) -> list[Path]:
    """Delete all but the newest ``keep`` snapshots (never the current one) and stale builds.

    A reader that still has a deleted file open keeps reading it: on POSIX the data
    stays until the last handle closes.
    """
    current = read_pointer(snapshots_dir)
    published = list_snapshots(snapshots_dir)
    doomed = [path for _, path in published[: max(0, len(published) - max(1, keep))]]
    if current is not None:
        doomed = [path for path in doomed if path.name != current.file]
    for path in snapshots_dir.glob(f"{_BUILDING_PREFIX}*"):
        # A build older than the current version died half-way; a newer one may be under way.
        version = path.name[len(_BUILDING_PREFIX) :].split(".duckdb")[0]
        if current is not None and version < current.version:
            doomed.append(path)
    for path in doomed:
        path.unlink(missing_ok=True)
        Path(f"{path}.wal").unlink(missing_ok=True)
    return doomed


def open_snapshot(path: Path, key: str | None = None) -> duckdb.DuckDBPyConnection:
    """A read-only connection with the snapshot attached and selected."""
    key = key or load_key()
    return open_encrypted(path, key, read_only=True, alias=SNAPSHOT_ALIAS)


def snapshot_info(con: duckdb.DuckDBPyConnection, path: Path) -> SnapshotInfo:
    """Read a snapshot's own record of itself."""
    version, built_at, tables, versions, sources = con.execute(
        f"select version, built_at, tables, model_versions, sources from {META_TABLE}"
    ).fetchone()
    return SnapshotInfo(
        version=version,
        path=path,
        built_at=built_at,
        tables=json.loads(tables),
        model_versions=json.loads(versions),
        sources=json.loads(sources),
    )


class SnapshotReader:
    """The current snapshot for a long-lived reader (a dashboard process, a script).

    :meth:`connection` returns a read-only connection to the published snapshot,
    reopening when the pointer has moved. The previous connection is closed on the
    switch, so callers should take a connection per unit of work rather than hold one.
    The API does its own swapping (see api/serving.py) because it must not close a
    snapshot under requests in flight.
    """

    def __init__(self, settings: Settings | None = None):
        self._settings = settings or get_settings()
        self._lock = threading.Lock()
        self._pointer: Pointer | None = None
        self._con: duckdb.DuckDBPyConnection | None = None

    @property
    def version(self) -> str | None:
        return self._pointer.version if self._pointer else None

    def connection(self) -> duckdb.DuckDBPyConnection:
        with self._lock:
            pointer = read_pointer(self._settings.snapshots_dir)
            if pointer is None:
                raise SnapshotError("no serving snapshot has been published yet")
            if self._con is None or pointer != self._pointer:
                con = open_snapshot(pointer.path(self._settings.snapshots_dir), load_key(self._settings))
                if self._con is not None:
                    self._con.close()
                self._con, self._pointer = con, pointer
            cursor = self._con.cursor()
            cursor.execute(f"use {SNAPSHOT_ALIAS}")  # a cursor starts in the default catalog
            return cursor

    def close(self) -> None:
        with self._lock:
            if self._con is not None:
                self._con.close()
            self._con, self._pointer = None, None
