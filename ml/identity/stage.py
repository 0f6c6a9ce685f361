"""The probabilistic identity stage, end to end, on an open warehouse connection.

    run_probabilistic_stage(con, StageConfig(...)) -> StageResult

1. Features of every person record (contacts and leads) from the staging views, kept in
   ``identity.probabilistic_features`` with their deterministic cluster's profile. A run
   computes features only for records loaded since (new or reloaded), and profiles again
   only the clusters that gained, lost or changed a record.
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

import hashlib
import json
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from ml.identity import features, guards, model
from ml.identity.nicknames import nickname_rows

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
    records_featurized: int = 0  # records whose own features were computed (new or reloaded)
    records_profiled: int = 0  # records whose cluster profile was computed again
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
        for table in ("identity_features", "identity_features_new"):
            con.execute(f"drop table if exists memory.main.{table}")
        for table in ("identity_source_keys", "identity_changed"):
            con.execute(f"drop table if exists temp.main.{table}")
        con.execute(f"use {wh}")


def _features_version(con: duckdb.DuckDBPyConnection, wh: str) -> str:
    """What the stored features were computed with: the feature SQL, the nickname list
    and the role mailboxes. Another version recomputes every record."""
    roles = con.execute(
        f"select string_agg(distinct lower(local_part), ',' order by lower(local_part)) "
        f"from {wh}.reference.role_email_local_parts"
    ).fetchone()[0]
    parts = [
        features.person_records_sql("s", "r", "o"),
        features.with_cluster_profile_sql("f", "c"),
        json.dumps(nickname_rows()),
        roles or "",
    ]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:12]


def refresh_features(con: duckdb.DuckDBPyConnection, wh: str) -> tuple[int, int]:
    """Bring ``identity.probabilistic_features`` up to date; return how many records had
    their features computed and how many rows were rewritten (their cluster profiled).

    Features are computed for records that are new or were loaded again since they were
    stored; the deterministic clusters are computed for all records (scipy, seconds at a
    million records), and only clusters that gained, lost or changed a record get their
    profile again.
    """
    stored = f"{wh}.{SCHEMA}.probabilistic_features"
    version = _features_version(con, wh)
    if _exists(con, wh, SCHEMA, "probabilistic_features"):
        versions = con.execute(f"select list(distinct features_version) from {stored}").fetchone()[0]
        if versions and versions != [version]:
            logger.info("feature definition changed: recomputing every record's features")
            con.execute(f"drop table {stored}")
    con.execute(
        "create or replace temp table identity_source_keys as " + features.source_keys_sql(f"{wh}.staging")
    )
    if _exists(con, wh, SCHEMA, "probabilistic_features"):
        con.execute(
            f"""create or replace temp table identity_changed as
            select tenant_id, node_key, unique_id from identity_source_keys as k
            anti join {stored} as s
                on s.unique_id = k.unique_id and s.record_loaded_at is not distinct from k.loaded_at"""
        )
    else:
        con.execute(
            "create or replace temp table identity_changed as "
            "select tenant_id, node_key, unique_id from identity_source_keys"
        )
    con.execute(
        "create or replace temp table identity_records_changed as "
        + features.person_records_sql(f"{wh}.staging", f"{wh}.reference", only="identity_changed")
    )
    featurized = con.execute("select count(*) from identity_records_changed").fetchone()[0]
    clusters = guards.deterministic_clusters(con, _deterministic_edges_sql(con, wh), "identity_source_keys")
    if not _exists(con, wh, SCHEMA, "probabilistic_features"):
        con.execute(
            f"create table {stored} as select *, ?::varchar as features_version from ("
            + features.with_cluster_profile_sql("identity_records_changed", clusters)
            + ")",
            [version],
        )
        con.execute(f"drop table identity_records_changed; drop table {clusters}")
        return featurized, featurized

    # Clusters to profile again: those holding a new or reloaded record, or a record whose
    # stored cluster (key and size) is not its cluster any more.
    con.execute(
        f"""create or replace temp table identity_affected as
        with touched as (
            select c.cluster_key from {clusters} as c
            left join {stored} as s using (unique_id)
            where s.unique_id is null or s.cluster_key <> c.cluster_key or s.cluster_size <> c.cluster_size
            union
            select c.cluster_key from {clusters} as c semi join identity_changed using (unique_id)
        )
        select c.* from {clusters} as c semi join touched using (cluster_key)"""
    )
    profile_columns = ", ".join(["cluster_key", "cluster_size", *features.CLUSTER_COLUMNS])
    con.execute(
        f"""create or replace temp table identity_profile_records as
        select * from identity_records_changed
        union all by name
        select * exclude ({profile_columns}, record_hash, features_version) from {stored}
        semi join identity_affected using (unique_id)
        anti join identity_changed using (unique_id)"""
    )
    con.execute(
        "create or replace temp table identity_profiled as "
        + features.with_cluster_profile_sql("identity_profile_records", "identity_affected")
    )
    con.execute(
        f"""delete from {stored} where unique_id in (
            select unique_id from identity_profiled
            union all
            select unique_id from {stored} anti join identity_source_keys using (unique_id)
        )"""
    )
    con.execute(
        f"insert into {stored} by name select *, ? as features_version from identity_profiled", [version]
    )
    rewritten = con.execute("select count(*) from identity_profiled").fetchone()[0]
    for table in (
        "identity_records_changed",
        "identity_affected",
        "identity_profile_records",
        "identity_profiled",
        clusters,
    ):
        con.execute(f"drop table {table}")
    return featurized, rewritten


def _run(con, config: StageConfig, wh: str, seconds: dict, lap) -> StageResult:
    features.register_lookups(con)
    featurized, profiled = refresh_features(con, wh)
    con.execute(
        "create or replace table memory.main.identity_features as "
        + features.scoring_sql(f"{wh}.{SCHEMA}.probabilistic_features")
    )
    records = con.execute("select count(*) from identity_features").fetchone()[0]
    lap("features")
    result = StageResult(
        mode="skipped",
        records=records,
        records_featurized=featurized,
        records_profiled=profiled,
        seconds=seconds,
    )
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
            predictions = model.predict(
                con,
                "identity_features",
                model_json,
                config.review_threshold,
                new_table="identity_features_new",
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
    con.execute(
        f"""create or replace temp table identity_pair_clusters as
        with reviews as (
            select pair_id, arg_max(decision, decided_at) as decision
            from {wh}.{SCHEMA}.match_reviews group by pair_id
        )
        select m.pair_id, m.match_probability, ca.cluster_key as cluster_a, cb.cluster_key as cluster_b,
            reviews.decision
        from {matches} as m
        join identity_features as ca on ca.unique_id = m.tenant_id || '|' || m.node_a
        join identity_features as cb on cb.unique_id = m.tenant_id || '|' || m.node_b
        left join reviews on reviews.pair_id = m.pair_id"""
    )
    # A pair inside one deterministic cluster decides nothing (the guards' union-find
    # skips it too): its status is set here, and only the pairs between clusters, a few
    # percent of them, go through the greedy decision in Python.
    con.execute(
        f"""create or replace temp table identity_decisions as
        select pair_id,
            case when decision = 'reject' then '{guards.REJECTED_BY_REVIEWER}' else '{guards.SAME_CLUSTER}' end
                as status,
            case when decision = 'reject' then 'a reviewer rejected this pair'
                else 'already one person by shared identifiers' end as reason
        from identity_pair_clusters where cluster_a = cluster_b"""
    )
    rows = con.execute(
        "select pair_id, match_probability, cluster_a, cluster_b, decision "
        "from identity_pair_clusters where cluster_a <> cluster_b"
    ).fetchall()
    stats = con.execute(
        """select cluster_key, any_value(cluster_size), list(distinct dob) filter (where dob is not null),
            list(distinct verified_email) filter (where verified_email is not null)
        from identity_features
        semi join (
            select cluster_a as cluster_key from identity_pair_clusters where cluster_a <> cluster_b
            union select cluster_b from identity_pair_clusters where cluster_a <> cluster_b
        ) using (cluster_key)
        group by cluster_key"""
    ).fetchall()
    clusters = {row[0]: guards.Cluster(row[1], set(row[2] or ()), set(row[3] or ())) for row in stats}
    decided = guards.decide(
        rows,
        clusters,
        accept_threshold=config.accept_threshold,
        max_cluster_records=config.max_cluster_records,
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
    con.execute("drop table identity_decisions; drop table identity_pair_clusters")
    return {str(k): int(v) for k, v in sorted(counts.items())}
