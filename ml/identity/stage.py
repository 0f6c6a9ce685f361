"""The probabilistic identity stage, end to end, on an open warehouse connection.

    run_probabilistic_stage(con, StageConfig(...)) -> StageResult

1. Features of every person record (contacts and leads) from the staging views.
2. The model: the active saved model of the current settings, or a new one trained by EM
   (first run, ``retrain``, or the records grew by ``retrain_growth`` since training).
   Trained parameters are saved as JSON under ``model_dir`` and in
   ``identity.probabilistic_models`` (versioned by a hash of the parameters).
3. Scoring. A new model scores everything. Otherwise only records that are new or whose
   compared fields changed since their last scoring (``identity.probabilistic_records``
   keeps a hash per record) are scored, against the rest and among themselves; the pairs
   of unchanged records are kept as they are.
4. Decisions over all stored pairs (``ml.identity.guards``): accepted, review,
   blocked (over-merge protection), a reviewer's confirm or reject.

Splink works in the connection's in-memory catalog (``memory``); only the results are
written into the warehouse's ``identity`` schema.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from ml.identity import features, guards, model

logger = logging.getLogger(__name__)

SCHEMA = "identity"

DDL = {
    "probabilistic_models": """(
        model_version varchar primary key, settings_fingerprint varchar, trained_at timestamp,
        training_records bigint, model_path varchar, model_json varchar, active boolean)""",
    "probabilistic_records": """(
        tenant_id varchar, node_key varchar, record_hash varchar, model_version varchar,
        scored_at timestamp)""",
    "probabilistic_matches": """(
        pair_id varchar, tenant_id varchar, node_a varchar, node_b varchar,
        match_probability double, match_weight double, evidence varchar, model_version varchar,
        scored_at timestamp, status varchar, status_reason varchar, status_changed_at timestamp)""",
    "match_reviews": """(
        pair_id varchar, tenant_id varchar, node_a varchar, node_b varchar, decision varchar,
        reviewer varchar, note varchar, decided_at timestamp)""",
}


@dataclass(frozen=True)
class StageConfig:
    model_dir: Path
    accept_threshold: float = 0.8
    review_threshold: float = 0.5
    max_cluster_records: int = 20
    retrain: bool = False
    retrain_growth: float = 1.0  # retrain once the records grew by this fraction since training
    warehouse_alias: str = "wh"


@dataclass
class StageResult:
    mode: str  # full | incremental | unchanged | skipped
    model_version: str | None = None
    trained: bool = False
    records: int = 0
    records_scored: int = 0
    pairs_scored: int = 0
    statuses: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    match_weights: list[dict[str, Any]] = field(default_factory=list)
    chart_spec: dict[str, Any] | None = None
    model_path: str | None = None


def ensure_tables(con: duckdb.DuckDBPyConnection, alias: str = "wh") -> None:
    con.execute(f"create schema if not exists {alias}.{SCHEMA}")
    for table, columns in DDL.items():
        con.execute(f"create table if not exists {alias}.{SCHEMA}.{table} {columns}")


def _exists(con: duckdb.DuckDBPyConnection, alias: str, schema: str, table: str) -> bool:
    args = [alias, schema, table]
    where = "database_name = ? and schema_name = ? and {name} = ?"
    tables = con.execute(
        f"select count(*) from duckdb_tables() where {where.format(name='table_name')}", args
    )
    count = tables.fetchone()[0]
    views = con.execute(f"select count(*) from duckdb_views() where {where.format(name='view_name')}", args)
    return count + views.fetchone()[0] > 0


def _deterministic_edges_sql(con: duckdb.DuckDBPyConnection, alias: str) -> str | None:
    if not (
        _exists(con, alias, "intermediate", "int_identity_edges_collected")
        and _exists(con, alias, "intermediate", "int_identity_identifiers_blocked")
    ):
        return None
    return f"""
        select edges.tenant_id || '|' || edges.node_a as a, edges.tenant_id || '|' || edges.node_b as b
        from {alias}.intermediate.int_identity_edges_collected as edges
        anti join {alias}.intermediate.int_identity_identifiers_blocked as blocked_a
            on edges.tenant_id = blocked_a.tenant_id and edges.node_a = blocked_a.node_key
        anti join {alias}.intermediate.int_identity_identifiers_blocked as blocked_b
            on edges.tenant_id = blocked_b.tenant_id and edges.node_b = blocked_b.node_key
    """


def _active_model(con, alias: str, fingerprint: str) -> tuple[str, dict, int] | None:
    row = con.execute(
        f"""select model_version, model_json, training_records from {alias}.{SCHEMA}.probabilistic_models
        where active and settings_fingerprint = ? order by trained_at desc limit 1""",
        [fingerprint],
    ).fetchone()
    return (row[0], json.loads(row[1]), int(row[2])) if row else None


def run_probabilistic_stage(con: duckdb.DuckDBPyConnection, config: StageConfig) -> StageResult:
    """Run the stage on ``con`` (the warehouse attached as ``config.warehouse_alias``)."""
    wh = config.warehouse_alias
    timer = time.perf_counter()
    seconds: dict[str, float] = {}

    def lap(name: str) -> None:
        nonlocal timer
        now = time.perf_counter()
        seconds[name] = round(now - timer, 2)
        timer = now

    ensure_tables(con, wh)
    con.execute("use memory")
    try:
        return _run(con, config, wh, seconds, lap)
    finally:
        for table in (
            "identity_records",
            "identity_features",
            "identity_features_new",
            "identity_features_old",
        ):
            con.execute(f"drop table if exists memory.main.{table}")
        con.execute(f"use {wh}")


def _run(con, config: StageConfig, wh: str, seconds: dict, lap) -> StageResult:
    features.register_lookups(con)
    con.execute(
        "create or replace table memory.main.identity_records as "
        + features.person_records_sql(f"{wh}.staging", f"{wh}.reference")
    )
    clusters = guards.deterministic_clusters(con, _deterministic_edges_sql(con, wh), "identity_records")
    con.execute(
        "create or replace table memory.main.identity_features as "
        + features.with_cluster_profile_sql("identity_records", clusters)
    )
    con.execute(f"drop table identity_records; drop table {clusters}")
    records = con.execute("select count(*) from identity_features").fetchone()[0]
    lap("features")
    result = StageResult(mode="skipped", records=records, seconds=seconds)
    if records < 2:
        return result

    settings = model.crm_settings()
    fingerprint = model.settings_fingerprint(settings)
    active = None if config.retrain else _active_model(con, wh, fingerprint)
    if active and records >= active[2] * (1 + config.retrain_growth):
        logger.info("records grew from %s to %s: retraining", active[2], records)
        active = None
    if active is None:
        trained = model.train(con, "identity_features", settings, model.CRM_TRAINING)
        path = model.save_model(trained, config.model_dir)
        con.execute(f"update {wh}.{SCHEMA}.probabilistic_models set active = false where active")
        con.execute(
            f"""insert or replace into {wh}.{SCHEMA}.probabilistic_models
            values (?, ?, now()::timestamp, ?, ?, ?, true)""",
            [
                trained.version,
                fingerprint,
                trained.training_records,
                str(path),
                json.dumps(trained.model_json),
            ],
        )
        version, model_json = trained.version, trained.model_json
        result.trained, result.chart_spec, result.model_path = True, trained.chart_spec, str(path)
        lap("train")
    else:
        version, model_json, _ = active
        result.model_path = con.execute(
            f"select model_path from {wh}.{SCHEMA}.probabilistic_models where model_version = ?", [version]
        ).fetchone()[0]
    result.model_version = version
    # Pairs are stored down to the review threshold: scoring under another threshold is
    # another scoring (a full one), like a new model.
    scoring = f"{version}@{config.review_threshold}"
    result.match_weights = model.match_weights(model_json)

    # Which records need scoring: all under a new model, else the new and changed ones.
    previous = f"{wh}.{SCHEMA}.probabilistic_records"
    already_scored = con.execute(f"select count(*) from {previous} where model_version = ?", [scoring])
    full = result.trained or not already_scored.fetchone()[0]
    con.execute(
        f"""create or replace table identity_features_new as
        select * from identity_features as f
        anti join (select * from {previous} where model_version = ?) as p
            on f.tenant_id = p.tenant_id and f.node_key = p.node_key and f.record_hash = p.record_hash""",
        [scoring],
    )
    # Records that changed or vanished: their old pairs go.
    stale = f"""
        select tenant_id, node_key from {previous}
        except
        select tenant_id, node_key from identity_features
            semi join {previous} using (tenant_id, node_key, record_hash)
    """
    matches = f"{wh}.{SCHEMA}.probabilistic_matches"
    if full:
        con.execute(f"delete from {matches}")
    else:
        con.execute(
            f"""delete from {matches} as m where exists (
                select 1 from ({stale}) as s where s.tenant_id = m.tenant_id
                and (s.node_key = m.node_a or s.node_key = m.node_b))"""
        )
    new_records = con.execute("select count(*) from identity_features_new").fetchone()[0]
    result.records_scored = new_records
    result.mode = "full" if full else ("incremental" if new_records else "unchanged")

    if new_records:
        if full:
            predictions = model.predict(con, "identity_features", model_json, config.review_threshold)
        else:
            con.execute(
                "create or replace table identity_features_old as "
                "select * from identity_features anti join identity_features_new using (unique_id)"
            )
            has_old = con.execute("select count(*) from identity_features_old").fetchone()[0] > 0
            predictions = model.predict(
                con,
                "identity_features",
                model_json,
                config.review_threshold,
                new_table="identity_features_new",
                old_table="identity_features_old" if has_old else None,
            )
        result.pairs_scored = con.execute(f"select count(*) from {predictions}").fetchone()[0]
        lap("predict")
        con.execute(
            f"""insert into {matches}
            with pairs as (
                select
                    split_part(least(unique_id_l, unique_id_r), '|', 1) as tenant_id,
                    substr(least(unique_id_l, unique_id_r), strpos(least(unique_id_l, unique_id_r), '|') + 1)
                        as node_a,
                    substr(greatest(unique_id_l, unique_id_r),
                        strpos(greatest(unique_id_l, unique_id_r), '|') + 1) as node_b,
                    match_probability,
                    match_weight,
                    {model.evidence_sql(model_json, version)} as evidence
                from {predictions}
            )
            select
                md5(tenant_id || '|' || node_a || '|' || node_b)[:16], tenant_id, node_a, node_b,
                max(match_probability), max(match_weight), arg_max(evidence, match_probability), ?,
                now()::timestamp, 'pending', null, now()::timestamp
            from pairs group by tenant_id, node_a, node_b""",
            [version],
        )
        con.execute(f"drop table {predictions}")
        con.execute(f"delete from {previous}")
        con.execute(
            f"insert into {previous} select tenant_id, node_key, record_hash, ?, now()::timestamp "
            "from identity_features",
            [scoring],
        )
    elif not full:
        con.execute(f"delete from {previous} where (tenant_id, node_key) in ({stale})")

    result.statuses = decide_statuses(con, config)
    lap("decide")
    return result


def decide_statuses(con: duckdb.DuckDBPyConnection, config: StageConfig) -> dict[str, int]:
    """Recompute every stored pair's status from the current deterministic clusters,
    the reviewers' decisions and the thresholds; return the count per status."""
    wh = config.warehouse_alias
    matches = f"{wh}.{SCHEMA}.probabilistic_matches"
    clusters_table = "identity_features"  # each record carries its deterministic cluster_id
    stats = con.execute(
        """select cluster_id, count(*), list(distinct dob) filter (where dob is not null),
            list(distinct verified_email) filter (where verified_email is not null)
        from identity_features group by cluster_id"""
    ).fetchall()
    clusters = {row[0]: guards.Cluster(row[1], set(row[2] or ()), set(row[3] or ())) for row in stats}
    rows = con.execute(
        f"""with reviews as (
            select pair_id, arg_max(decision, decided_at) as decision
            from {wh}.{SCHEMA}.match_reviews group by pair_id
        )
        select m.pair_id, m.match_probability, ca.cluster_id, cb.cluster_id, reviews.decision
        from {matches} as m
        join {clusters_table} as ca on ca.unique_id = m.tenant_id || '|' || m.node_a
        join {clusters_table} as cb on cb.unique_id = m.tenant_id || '|' || m.node_b
        left join reviews on reviews.pair_id = m.pair_id"""
    ).fetchall()
    decided = guards.decide(
        rows,
        clusters,
        accept_threshold=config.accept_threshold,
        max_cluster_records=config.max_cluster_records,
    )
    con.execute(
        "create or replace temp table identity_decisions (pair_id varchar, status varchar, reason varchar)"
    )
    if decided:
        import pyarrow as pa

        arrow = pa.table(  # noqa: F841 (read by DuckDB's replacement scan)
            {
                "pair_id": [d[0] for d in decided],
                "status": [d[1] for d in decided],
                "reason": [d[2] for d in decided],
            }
        )
        con.execute("insert into identity_decisions select * from arrow")
    con.execute(
        f"""update {matches} as m set
            status = d.status,
            status_reason = d.reason,
            status_changed_at = case when m.status is distinct from d.status then now()::timestamp
                else m.status_changed_at end
        from identity_decisions as d
        where m.pair_id = d.pair_id and (m.status is distinct from d.status
            or m.status_reason is distinct from d.reason)"""
    )
    counts = dict(con.execute(f"select status, count(*) from {matches} group by status").fetchall())
    con.execute("drop table identity_decisions")
    return {str(k): int(v) for k, v in sorted(counts.items())}
