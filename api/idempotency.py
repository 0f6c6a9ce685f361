"""Idempotent POSTs: the same ``Idempotency-Key`` from the same tenant gets the same answer."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime

from warehouse.opstore import ops_db
from warehouse.settings import Settings


def replay(settings: Settings, tenant_id: str, endpoint: str, key: str) -> tuple[int, bytes] | None:
    with ops_db(settings) as con:
        row = con.execute(
            "select status, body from idempotency where tenant_id = ? and endpoint = ? and idempotency_key = ?",
            [tenant_id, endpoint, key],
        ).fetchone()
    return (row[0], row[1].encode()) if row else None


def remember(
    settings: Settings, tenant_id: str, endpoint: str, key: str, status: int, body: bytes
) -> tuple[int, bytes]:
    """Store the answer; if a concurrent request stored one first, return that one instead."""
    try:
        with ops_db(settings) as con:
            con.execute(
                "insert into idempotency (tenant_id, endpoint, idempotency_key, status, body, created_at) "
                "values (?, ?, ?, ?, ?, ?)",
                [tenant_id, endpoint, key, status, body.decode(), datetime.now(UTC).isoformat()],
            )
    except sqlite3.IntegrityError:
        return replay(settings, tenant_id, endpoint, key) or (status, body)
    return status, body
