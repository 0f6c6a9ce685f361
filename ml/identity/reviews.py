"""The review queue of probabilistic matches: list, confirm, reject.

A pair lands in the queue when its match probability is between the review and the accept
thresholds, or when over-merge protection blocked it. A decision is appended to
``identity.match_reviews`` (never updated: the latest decision per pair wins, and the
history stays auditable); the probabilistic stage reads it on every later run, so a
confirm merges the pair and a reject keeps it apart whatever the model says, until a
newer decision.
"""

from __future__ import annotations

from typing import Any

import duckdb

from ml.identity.guards import BLOCKED_CONFLICT, BLOCKED_SIZE, REVIEW
from ml.identity.stage import SCHEMA, ensure_tables

QUEUE_STATUSES = (REVIEW, BLOCKED_SIZE, BLOCKED_CONFLICT)
DECISIONS = ("confirm", "reject")


def _people_sql(alias: str) -> str:
    """Name, email of every person record node, for the reviewer."""
    return f"""
        select tenant_id, 'external_id:' || source_system || ':contacts:' || contact_id as node_key,
            concat_ws(' ', first_name, last_name) || ' <' || coalesce(email_normalized, '-') || '>' as label
        from {alias}.staging.stg_crm__contacts
        union all
        select tenant_id, 'external_id:' || source_system || ':leads:' || lead_id,
            concat_ws(' ', first_name, last_name) || ' <' || coalesce(email_normalized, '-') || '>'
        from {alias}.staging.stg_crm__leads
    """


def review_queue(
    con: duckdb.DuckDBPyConnection, tenant_id: str | None = None, limit: int = 50, alias: str = "wh"
) -> list[dict[str, Any]]:
    """Undecided pairs awaiting a reviewer, most probable first (read-only)."""
    present = con.execute(
        "select count(*) from duckdb_tables() where database_name = ? and schema_name = ? "
        "and table_name in ('probabilistic_matches', 'match_reviews')",
        [alias, SCHEMA],
    ).fetchone()[0]
    if present < 2:  # the probabilistic stage has not run yet
        return []
    statuses = ", ".join(f"'{s}'" for s in QUEUE_STATUSES)
    rows = con.execute(
        f"""with people as ({_people_sql(alias)})
        select m.pair_id, m.tenant_id, m.node_a, m.node_b, round(m.match_probability, 4), m.status,
            m.status_reason, m.evidence, a.label, b.label
        from {alias}.{SCHEMA}.probabilistic_matches as m
        left join people as a on a.tenant_id = m.tenant_id and a.node_key = m.node_a
        left join people as b on b.tenant_id = m.tenant_id and b.node_key = m.node_b
        where m.status in ({statuses}) and (?::varchar is null or m.tenant_id = ?)
            and m.pair_id not in (select pair_id from {alias}.{SCHEMA}.match_reviews)
        order by m.match_probability desc, m.pair_id
        limit ?""",
        [tenant_id, tenant_id, limit],
    ).fetchall()
    keys = ("pair_id", "tenant_id", "node_a", "node_b", "match_probability", "status", "reason", "evidence")
    return [{**dict(zip(keys, row[:8], strict=True)), "record_a": row[8], "record_b": row[9]} for row in rows]


def record_decision(
    con: duckdb.DuckDBPyConnection,
    pair_id: str,
    decision: str,
    reviewer: str,
    note: str | None = None,
    alias: str = "wh",
) -> dict[str, Any]:
    """Append a reviewer's decision on a stored pair; it takes effect at the next run."""
    if decision not in DECISIONS:
        raise ValueError(f"decision must be one of {DECISIONS}")
    ensure_tables(con, alias)
    row = con.execute(
        f"select tenant_id, node_a, node_b from {alias}.{SCHEMA}.probabilistic_matches where pair_id = ?",
        [pair_id],
    ).fetchone()
    if row is None:
        raise KeyError(f"no probabilistic match with pair id {pair_id}")
    con.execute(
        f"insert into {alias}.{SCHEMA}.match_reviews values (?, ?, ?, ?, ?, ?, ?, now()::timestamp)",
        [pair_id, *row, decision, reviewer, note],
    )
    return {"pair_id": pair_id, "tenant_id": row[0], "node_a": row[1], "node_b": row[2], "decision": decision}
