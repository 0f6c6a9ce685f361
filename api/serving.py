"""What the API serves from: the current snapshot, loaded into memory, swapped live.

The hot read paths (a customer's profile, their scores, identifier lookups) answer
from dicts of pre-serialised JSON built from the snapshot when it is loaded: about
0.2 ms a request instead of 1-2 ms for a DuckDB query (DESIGN.md, measured facts).
Paginated reads (timeline, leads, segment members) query the snapshot's read-only
DuckDB connection.

A background thread polls the pointer file; on a new version it loads the new
snapshot completely, then swaps one reference. A request takes the reference once, at
its start, so it finishes on the snapshot it began with. The old snapshot's connection
is closed when the last request that leased it has finished.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import gc
import json
import logging
import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from api.masking import mask_json
from warehouse.connection import load_key
from warehouse.settings import Settings
from warehouse.snapshots import (
    SCORE_TABLES,
    SNAPSHOT_ALIAS,
    Pointer,
    SnapshotInfo,
    open_snapshot,
    read_pointer,
    snapshot_info,
)

log = logging.getLogger("crm360.api.serving")

SEP = "\x1f"  # joins tenant and id into one dict key; cannot occur in either
IDENTIFIER_TYPES = ("email", "phone", "user_id", "anonymous_id", "external_id")
# Response field for each score table.
SCORE_FIELDS = {"lead_scores": "lead_score", "churn_predictions": "churn", "customer_value": "customer_value"}
_FETCH_ROWS = 10_000


def dict_key(*parts: str) -> str:
    return SEP.join(parts)


def _dumps(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), default=str).encode()


@dataclass(eq=False)
class ServingData:
    """One loaded snapshot. Immutable once built, except for its lease count."""

    pointer: Pointer
    info: SnapshotInfo
    con: duckdb.DuckDBPyConnection
    tables: dict[str, dict[str, str]]  # table -> column -> DuckDB type
    profiles: dict[str, bytes] = field(default_factory=dict)  # tenant+customer -> customer_360 JSON
    scores: dict[str, bytes] = field(default_factory=dict)  # tenant+customer -> scores JSON
    # tenant+customer -> customer_360 JSON with personal data masked, filled on first read
    masked_profiles: dict[str, bytes] = field(default_factory=dict)
    identifiers: dict[str, str] = field(default_factory=dict)  # tenant+type+value -> customer_id
    merged_into: dict[str, str] = field(default_factory=dict)  # tenant+old id -> surviving id
    leads_sql: str | None = None
    loaded_at: float = field(default_factory=time.time)
    _leases: int = 0
    _retired: bool = False
    _closed: bool = False
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def version(self) -> str:
        return self.info.version

    @functools.cached_property
    def version_header(self) -> bytes:
        return self.info.version.encode()

    def select_list(self, table: str, alias: str) -> str:
        """All of ``table``'s columns, times rendered as ISO 8601 (DuckDB's own text has a space)."""
        return iso_select_list(self.tables[table], alias)

    def resolve(self, tenant_id: str, customer_id: str) -> str | None:
        """The surviving customer id for ``customer_id`` in this tenant, or None if unknown."""
        key = dict_key(tenant_id, customer_id)
        seen = 0
        while key not in self.profiles:
            target = self.merged_into.get(key)
            seen += 1
            if target is None or seen > 20:  # a merge chain, never a cycle, but be safe
                return None
            customer_id = target
            key = dict_key(tenant_id, customer_id)
        return customer_id

    def profile(self, key: str, sees_pii: bool) -> bytes:
        """The customer 360 JSON of ``dict_key(tenant, customer)``, masked unless ``sees_pii``.

        The masked variant is made on a customer's first masked read and kept with the
        snapshot (a dict store is atomic under the GIL; two racing requests make the same bytes).
        """
        if sees_pii:
            return self.profiles[key]
        body = self.masked_profiles.get(key)
        if body is None:
            body = self.masked_profiles[key] = mask_json(self.profiles[key])
        return body

    def lookup(self, tenant_id: str, identifier_type: str, value: str) -> str | None:
        found = self.identifiers.get(dict_key(tenant_id, identifier_type, value))
        return self.resolve(tenant_id, found) if found is not None else None

    # Leases keep the DuckDB connection open for requests that query it.
    def try_acquire(self) -> bool:
        """Take a lease; False if this snapshot was already retired and closed."""
        with self._lock:
            if self._closed:
                return False
            self._leases += 1
            return True

    def release(self) -> None:
        with self._lock:
            self._leases -= 1
            close = self._retired and self._leases == 0 and not self._closed
            if close:
                self._closed = True
        if close:
            self._close()

    def retire(self) -> None:
        with self._lock:
            self._retired = True
            close = self._leases == 0 and not self._closed
            if close:
                self._closed = True
        if close:
            self._close()

    def _close(self) -> None:
        with contextlib.suppress(Exception):
            self.con.close()

    def query(self, sql: str, params: list[Any] | dict[str, Any]) -> list[tuple]:
        """Run one query on this snapshot; the caller must hold a lease."""
        cur = snapshot_cursor(self.con)
        try:
            return cur.execute(sql, params).fetchall()
        finally:
            cur.close()


def iso_select_list(columns: dict[str, str], alias: str) -> str:
    parts = []
    for column, data_type in columns.items():
        ref = f'{alias}."{column}"'
        if data_type.startswith("TIMESTAMP WITH TIME ZONE"):
            parts.append(f"strftime(timezone('UTC', {ref}), '%Y-%m-%dT%H:%M:%S.%fZ') as \"{column}\"")
        elif data_type.startswith("TIMESTAMP"):
            parts.append(f"strftime({ref}, '%Y-%m-%dT%H:%M:%S.%f') as \"{column}\"")
        else:
            parts.append(ref)
    return ", ".join(parts)


def _columns(con: duckdb.DuckDBPyConnection) -> dict[str, dict[str, str]]:
    rows = con.execute(
        "select table_name, column_name, data_type from information_schema.columns "
        "where table_catalog = current_database() order by table_name, ordinal_position"
    ).fetchall()
    tables: dict[str, dict[str, str]] = {}
    for table, column, data_type in rows:
        tables.setdefault(table, {})[column] = data_type
    return tables


def snapshot_cursor(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """A cursor for another thread; cursors start in the default catalog, so select the snapshot."""
    cur = con.cursor()
    cur.execute(f"use {SNAPSHOT_ALIAS}")
    return cur


def _fetch_chunks(con: duckdb.DuckDBPyConnection, sql: str) -> Iterator[list[tuple]]:
    cur = snapshot_cursor(con)
    try:
        cur.execute(sql)
        while rows := cur.fetchmany(_FETCH_ROWS):
            yield rows
            time.sleep(0.002)  # let the event loop's thread take the GIL (and a core) between chunks
    finally:
        cur.close()


def _leads_sql(tables: dict[str, dict[str, str]]) -> str | None:
    """The relation behind GET /v1/leads, adapted to the columns the snapshot has."""
    if "lead_scores" not in tables:
        return None
    columns = tables["lead_scores"]
    own = iso_select_list(columns, "l")
    if "owner_id" in columns and "stage" in columns:
        return f"select {own} from lead_scores l"
    if "customer_360" in tables:
        profile = tables["customer_360"]
        extra = []
        if "owner_id" not in columns and "owner_id" in profile:
            extra.append("c.owner_id")
        if "stage" not in columns and "lifecycle_stage" in profile:
            extra.append("c.lifecycle_stage as stage")
        if extra:
            return (
                f"select {own}, {', '.join(extra)} from lead_scores l left join customer_360 c "
                "on c.tenant_id = l.tenant_id and c.customer_id = l.customer_id"
            )
    return f"select {own} from lead_scores l"


def load_serving_data(pointer: Pointer, settings: Settings) -> ServingData:
    """Open a snapshot and build the in-memory indexes; raises if the snapshot is unusable."""
    path = pointer.path(settings.snapshots_dir)
    con = open_snapshot(path, load_key(settings))
    # One DuckDB thread: a reload must not take both cores from the requests in flight.
    con.execute("set threads = 1")
    try:
        info = snapshot_info(con, path)
        tables = _columns(con)
        data = ServingData(pointer=pointer, info=info, con=con, tables=tables)
        profile_sql = (
            "select tenant_id, customer_id, to_json(r)::varchar "
            f"from (select {data.select_list('customer_360', 'c')} from customer_360 c) r"
        )
        for rows in _fetch_chunks(con, profile_sql):
            data.profiles.update((dict_key(t, c), j.encode()) for t, c, j in rows)
        for rows in _fetch_chunks(
            con,
            "select tenant_id, identifier_type, identifier_value, customer_id from customer_identifiers "
            "where identifier_value is not null",
        ):
            data.identifiers.update((dict_key(t, k, v), c) for t, k, v, c in rows)
        for rows in _fetch_chunks(con, _merged_into_sql(tables)) if _merged_into_sql(tables) else ():
            data.merged_into.update((dict_key(t, f), to) for t, f, to in rows)
        _build_scores(data)
        data.leads_sql = _leads_sql(tables)
        return data
    except BaseException:
        con.close()
        raise


def _merged_into_sql(tables: dict[str, dict[str, str]]) -> str | None:
    """Old customer id -> surviving id: customer_aliases maps straight to the survivor;
    customer_merges is a log of steps (followed by :meth:`ServingData.resolve`) that also
    records splits, which are not merges."""
    if "customer_aliases" in tables:
        return (
            "select tenant_id, alias_customer_id, customer_id from customer_aliases "
            "where alias_customer_id <> customer_id"
        )
    if "customer_merges" in tables:
        split_filter = "where change_type = 'merge' " if "change_type" in tables["customer_merges"] else ""
        return f"select tenant_id, from_customer_id, to_customer_id from customer_merges {split_filter}order by merged_at"
    return None


def _score_relation(data: ServingData, table: str) -> str:
    """One row per customer of a score table, times as ISO 8601.

    A customer with several rows (several leads) shows the best-scored, then the latest.
    """
    columns = data.tables[table]
    order = []
    if table == "lead_scores" and "score" in columns:
        order.append("score desc nulls last")
    if "scored_at" in columns:
        order.append("scored_at desc nulls last")
    return (
        f"(select {data.select_list(table, 's')} from {table} s "
        "qualify row_number() over (partition by tenant_id, customer_id"
        + (f" order by {', '.join(order)}" if order else "")
        + "))"
    )


def _build_scores(data: ServingData) -> None:
    """The scores answer of every customer, composed by DuckDB (in C++, off the GIL)."""
    joins, fields = [], []
    for n, table in enumerate(SCORE_TABLES):
        name = SCORE_FIELDS[table]
        if table in data.tables and {"tenant_id", "customer_id"} <= data.tables[table].keys():
            joins.append(f"left join {_score_relation(data, table)} s{n} using (tenant_id, customer_id)")
            # The row's JSON object with "status":"scored" put first.
            body = (
                f"""case when s{n}.customer_id is null then '{{"status":"not_scored"}}' """
                f"""else '{{"status":"scored",' || substr(to_json(s{n})::varchar, 2) end"""
            )
        else:
            unavailable = json.dumps({"status": "unavailable", "reason": f"this snapshot has no {table} yet"})
            body = "'" + unavailable.replace("'", "''") + "'"
        fields.append(f"""',"{name}":' || {body}""")
    version = json.dumps(data.info.version).replace("'", "''")
    sql = (
        "select c.tenant_id, c.customer_id, "
        f"""'{{"customer_id":' || to_json(c.customer_id)::varchar || ',"snapshot_version":{version}' || """
        + " || ".join(fields)
        + " || '}' from (select tenant_id, customer_id from customer_360) c "
        + " ".join(joins)
    )
    for rows in _fetch_chunks(data.con, sql):
        data.scores.update((dict_key(t, c), j.encode()) for t, c, j in rows)


def _free_gradually(data: ServingData, grace_seconds: float = 1.0, batch: int = 5_000) -> None:
    """Empty a retired snapshot's dicts a few thousand entries at a time.

    Dropping the last reference to dicts of hundreds of thousands of entries frees them
    in one C call that holds the GIL for a few hundred milliseconds; emptied in batches
    with a pause between, the event loop keeps answering. Requests that took the old
    snapshot just before the swap finish first: leased reads (timeline, leads) are waited
    for, dict reads take microseconds.
    """
    deadline = time.monotonic() + 300
    while not data._closed and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(grace_seconds)
    for table in (data.profiles, data.masked_profiles, data.scores, data.identifiers, data.merged_into):
        while table:
            for _ in range(min(batch, len(table))):
                table.popitem()
            time.sleep(0.002)


@contextlib.contextmanager
def _one_loader_at_a_time(snapshots_dir: Path) -> Iterator[None]:
    """Workers load a new snapshot one after the other, not all at once.

    A load takes about a core for a second or two per 50,000 customers; while one worker
    loads, the others keep answering from the previous snapshot with the CPU that is left.
    """
    if not snapshots_dir.exists():
        yield
        return
    fd = os.open(snapshots_dir / ".reload.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


class ServingStore:
    """Holds the current :class:`ServingData` and swaps in new snapshots as they appear."""

    def __init__(self, settings: Settings):
        self._settings = settings
        self.current: ServingData | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._reload_lock = threading.Lock()
        self.last_error: str | None = None

    def refresh(self) -> bool:
        """Load the pointed-to snapshot if it is new; True when a swap happened."""
        with self._reload_lock, _one_loader_at_a_time(self._settings.snapshots_dir):
            pointer = read_pointer(self._settings.snapshots_dir)
            current = self.current
            if pointer is None or (current is not None and current.pointer == pointer):
                return False
            started = time.perf_counter()
            # Loading allocates millions of objects; each full collection the allocations
            # would trigger walks the whole heap while holding the GIL, stalling requests
            # for hundreds of milliseconds. So the collector is off while loading, and what
            # survives is frozen (later collections skip it; reference counting still
            # frees it when a newer snapshot replaces it).
            gc.disable()
            try:
                data = load_serving_data(pointer, self._settings)
            except Exception as exc:
                self.last_error = f"cannot load snapshot {pointer.version}: {exc}"
                log.exception(self.last_error)
                gc.enable()
                return False
            self.current = data
            self.last_error = None
            gc.freeze()
            gc.enable()
            log.info(
                "serving snapshot %s (%d customers) loaded in %.2f s",
                data.version,
                len(data.profiles),
                time.perf_counter() - started,
            )
        if current is not None:
            current.retire()
            threading.Thread(
                target=_free_gradually, args=(current,), name="snapshot-free", daemon=True
            ).start()
        return True

    @contextlib.contextmanager
    def lease(self) -> Iterator[ServingData | None]:
        """The current snapshot, kept open until the block ends (None if there is none)."""
        while True:
            data = self.current
            if data is None:
                yield None
                return
            if data.try_acquire():
                break
            # Retired and closed between reading ``current`` and leasing it: ``current``
            # already points at its successor, so look again.
        try:
            yield data
        finally:
            data.release()

    def _run(self) -> None:
        while not self._stop.wait(self._settings.snapshot_poll_seconds):
            try:
                self.refresh()
            except Exception:
                log.exception("snapshot refresh failed")

    def start(self) -> None:
        self.refresh()
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="snapshot-reload", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
        if self.current is not None:
            self.current.retire()
            self.current = None


def snapshot_age_seconds(data: ServingData) -> float:
    built = data.info.built_at
    if built.tzinfo is None:
        built = built.replace(tzinfo=UTC)
    return max(0.0, (datetime.now(UTC) - built).total_seconds())


def snapshot_path(data: ServingData, settings: Settings) -> Path:
    return data.pointer.path(settings.snapshots_dir)
