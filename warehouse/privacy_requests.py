"""Erasure requests (GDPR art. 17): recorded by the API, carried out by the pipeline.

The API records a request with status ``received`` and answers with its id; the privacy
pipeline takes ``pending_erasures()``, moves each to ``in_progress``, removes the
subject everywhere (DESIGN.md, Privacy) and finishes with ``completed`` (detail: what
was deleted where, as counts) or ``rejected`` (detail: why). Clients poll
GET /v1/privacy/erasures/{id}.
"""

from __future__ import annotations

import json
import secrets
from datetime import UTC, datetime
from typing import Any

from warehouse.opstore import ops_db
from warehouse.settings import Settings, get_settings

# received = pending, in_progress = running; failed: the pipeline could not finish or verify it.
STATUSES = ("received", "in_progress", "completed", "failed", "rejected")
_COLUMNS = (
    "request_id",
    "tenant_id",
    "identifiers",
    "reason",
    "status",
    "received_at",
    "updated_at",
    "detail",
)


def _row(row: tuple) -> dict[str, Any]:
    record = dict(zip(_COLUMNS, row, strict=True))
    record["identifiers"] = json.loads(record["identifiers"])
    record["detail"] = json.loads(record["detail"]) if record["detail"] else None
    return record


def create_erasure(
    tenant_id: str,
    identifiers: dict[str, str],
    key_id: str,
    reason: str | None = None,
    settings: Settings | None = None,
) -> dict[str, Any]:
    now = datetime.now(UTC).isoformat()
    request_id = "era_" + secrets.token_hex(8)
    with ops_db(settings) as con:
        con.execute(
            "insert into erasure_requests (request_id, tenant_id, identifiers, reason, status, received_at, "
            "updated_at, key_id) values (?, ?, ?, ?, 'received', ?, ?, ?)",
            [request_id, tenant_id, json.dumps(identifiers, sort_keys=True), reason, now, now, key_id],
        )
    return get_erasure(tenant_id, request_id, settings)  # type: ignore[return-value]


def get_erasure(tenant_id: str, request_id: str, settings: Settings | None = None) -> dict[str, Any] | None:
    """One request of one tenant; None for unknown ids and other tenants' ids alike."""
    with ops_db(settings) as con:
        row = con.execute(
            f"select {', '.join(_COLUMNS)} from erasure_requests where tenant_id = ? and request_id = ?",
            [tenant_id, request_id],
        ).fetchone()
    return _row(row) if row else None


def pending_erasures(settings: Settings | None = None) -> list[dict[str, Any]]:
    """Requests the pipeline has yet to finish, oldest first."""
    with ops_db(settings) as con:
        rows = con.execute(
            f"select {', '.join(_COLUMNS)} from erasure_requests where status in ('received', 'in_progress') "
            "order by received_at"
        ).fetchall()
    return [_row(row) for row in rows]


def update_erasure(
    request_id: str, status: str, detail: dict[str, Any] | None = None, settings: Settings | None = None
) -> None:
    if status not in STATUSES:
        raise ValueError(f"unknown status {status!r}; one of {', '.join(STATUSES)}")
    with ops_db(settings) as con:
        cursor = con.execute(
            "update erasure_requests set status = ?, detail = ?, updated_at = ? where request_id = ?",
            [
                status,
                json.dumps(detail) if detail is not None else None,
                datetime.now(UTC).isoformat(),
                request_id,
            ],
        )
        if cursor.rowcount != 1:
            raise KeyError(request_id)


def scrub_identifiers(request_id: str, settings: Settings | None = None) -> None:
    """After a completed erasure the request keeps only the kinds of identifier it named.

    The store is then vacuumed and its WAL truncated, so the values leave the file too.
    """
    with ops_db(settings) as con:
        row = con.execute(
            "select identifiers from erasure_requests where request_id = ?", [request_id]
        ).fetchone()
        if row is None:
            raise KeyError(request_id)
        kinds = {kind: "[erased]" for kind in json.loads(row[0])}
        con.execute(
            "update erasure_requests set identifiers = ? where request_id = ?",
            [json.dumps(kinds, sort_keys=True), request_id],
        )
    import sqlite3

    path = (settings or get_settings()).ops_db_path
    con = sqlite3.connect(path, timeout=30, isolation_level=None)
    try:
        con.execute("pragma secure_delete = on")
        con.execute("vacuum")
        con.execute("pragma wal_checkpoint(truncate)")
    finally:
        con.close()
