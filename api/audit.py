"""The audit log: who read whose personal data or changed anything, and when.

Handlers call :meth:`AuditLog.record`, which only appends a tuple to a deque; a
background thread writes what accumulated every half second, so the read path never
waits on a disk. Records hold ids (key, tenant, customer, request), never the personal
data itself.

Storage: append-only CSV files, one per worker process and day, under
``<ops store folder>/audit/<YYYY-MM-DD>/``, fsynced at each flush. Several worker
processes append without sharing a lock, a day's folder can be archived or deleted
by a retention job as a whole, and writing a line costs a fraction of a database
insert (the API writes one per personal-data read). Admins query them through
GET /v1/audit, which reads the files of the days asked for with DuckDB. On shutdown
the last records are flushed; a crash loses at most the last interval.
"""

from __future__ import annotations

import csv
import logging
import os
import socket
import threading
import time
from collections import deque
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb

from warehouse.settings import Settings

log = logging.getLogger("crm360.api.audit")

COLUMNS = (
    "at",
    "tenant_id",
    "key_id",
    "role",
    "action",
    "object_type",
    "object_id",
    "status",
    "pii",
    "detail",
)
# ``pii``: the answer carried personal data unmasked (a PII role's read, an export's
# addresses). ``detail``: counts or parameters (an export's channel, purpose and row
# counts), never personal data. Files written before these two columns existed have
# eight fields a line; they are read with the two as null.
_SELECT = ", ".join(f'"{column}"' for column in COLUMNS)  # "at" is a keyword in DuckDB


def audit_dir(settings: Settings) -> Path:
    return settings.ops_db_path.parent / "audit"


class AuditLog:
    def __init__(self, settings: Settings, flush_interval: float = 0.5):
        self._dir = audit_dir(settings)
        self._interval = flush_interval
        self._pending: deque[tuple[Any, ...]] = deque()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._flush_lock = threading.Lock()
        self._name = f"{socket.gethostname()}-{os.getpid()}.csv"

    def record(
        self,
        tenant_id: str,
        key_id: str,
        role: str,
        action: str,
        object_type: str | None,
        object_id: str | None,
        status: int,
        pii: bool = False,
        detail: str | None = None,
    ) -> None:
        # The clock is read here and formatted at flush time: the read path only appends.
        self._pending.append(
            (time.time(), tenant_id, key_id, role, action, object_type, object_id, status, int(pii), detail)
        )

    def flush(self) -> int:
        """Write everything pending; returns how many records were written."""
        with self._flush_lock:
            by_day: dict[date, list[tuple[Any, ...]]] = {}
            count = 0
            while self._pending:
                at, *rest = self._pending.popleft()
                moment = datetime.fromtimestamp(at, UTC)
                by_day.setdefault(moment.date(), []).append((moment.isoformat(), *rest))
                count += 1
            for day, rows in by_day.items():
                folder = self._dir / day.isoformat()
                folder.mkdir(parents=True, exist_ok=True)
                with open(folder / self._name, "a", newline="") as handle:
                    csv.writer(handle).writerows(rows)
                    handle.flush()
                    os.fsync(handle.fileno())
            return count

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                self.flush()
            except Exception:
                log.exception("audit flush failed")

    def start(self) -> None:
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="audit-flush", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
        self.flush()


def query_audit(
    settings: Settings,
    tenant_id: str,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    action: str | None = None,
    key_id: str | None = None,
    object_id: str | None = None,
    pii: bool | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[dict[str, Any]]:
    """A tenant's audit records, newest first."""
    root = audit_dir(settings)
    first = since.astimezone(UTC).date() - timedelta(days=1) if since else None
    last = until.astimezone(UTC).date() + timedelta(days=1) if until else None
    files = [
        str(path)
        for folder in sorted(root.glob("????-??-??"))
        if root.exists()
        if (first is None or folder.name >= first.isoformat())
        and (last is None or folder.name <= last.isoformat())
        for path in sorted(folder.glob("*.csv"))
        if path.stat().st_size
    ]
    if not files:
        return []
    # "*" marks platform-wide records (key management), shown to every tenant's admins.
    where, params = ["(tenant_id = ? or tenant_id = '*')"], [tenant_id]
    if since is not None:
        where.append('"at" >= ?')
        params.append(since)
    if until is not None:
        where.append('"at" < ?')
        params.append(until)
    for column, value in (("action", action), ("key_id", key_id), ("object_id", object_id)):
        if value is not None:
            where.append(f"{column} = ?")
            params.append(value)
    if pii is not None:
        where.append("coalesce(pii, 0) = ?")
        params.append(int(pii))
    types = {name: "VARCHAR" for name in COLUMNS} | {
        "at": "TIMESTAMPTZ",
        "status": "INTEGER",
        "pii": "INTEGER",
    }
    con = duckdb.connect()
    try:
        con.execute("set TimeZone = 'UTC'")
        rows = con.execute(
            f"select {_SELECT} from read_csv(?, header = false, columns = {types!r}, auto_detect = false, "
            "delim = ',', quote = '\"', escape = '\"', new_line = '\\r\\n', parallel = false, "
            "null_padding = true) "
            f'where {" and ".join(where)} order by "at" desc, object_id limit ? offset ?',
            [files, *params, limit, offset],
        ).fetchall()
    finally:
        con.close()
    return [dict(zip(COLUMNS, row, strict=True)) | {"pii": bool(row[8])} for row in rows]
