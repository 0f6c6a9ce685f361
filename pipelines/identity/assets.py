"""The probabilistic identity stage as a Dagster asset, with its checks.

``identity/probabilistic_matches`` runs between dbt models: it reads the person records
(staging) and the deterministic edges (int_identity_edges_collected, less blocked
identifiers), and dbt reads its output as the source ``identity.probabilistic_matches``
(int_identity_probabilistic_edges -> int_identity_edges_filtered -> clusters -> ids). The
dbt multi-asset is subsettable, so Dagster runs dbt, then this step, then the rest of dbt.

It writes the warehouse, so it takes the ``warehouse`` pool (DESIGN.md decision 1).

No ``from __future__ import annotations``: Dagster reads the context annotation.
"""

import dagster as dg

from ml.identity.model import load_chart
from ml.identity.stage import StageConfig, StageResult, run_probabilistic_stage
from pipelines.pools import WAREHOUSE_POOL
from warehouse.connection import warehouse
from warehouse.settings import get_settings

GROUP = "identity"
MATCHES_KEY = dg.AssetKey(["identity", "probabilistic_matches"])
UPSTREAM = [
    dg.AssetKey(["staging", "stg_crm__contacts"]),
    dg.AssetKey(["staging", "stg_crm__leads"]),
    dg.AssetKey(["staging", "stg_crm__accounts"]),
    dg.AssetKey(["intermediate", "int_identity_edges_collected"]),
    dg.AssetKey(["intermediate", "int_identity_identifiers_blocked"]),
    dg.AssetKey(["reference", "role_email_local_parts"]),
]


class ProbabilisticStageConfig(dg.Config):
    retrain: bool = False  # train a new model even if the saved one still fits


def stage_config(retrain: bool = False) -> StageConfig:
    settings = get_settings()
    return StageConfig(
        model_dir=settings.identity_model_dir,
        accept_threshold=settings.identity_accept_threshold,
        review_threshold=settings.identity_review_threshold,
        max_cluster_records=settings.identity_max_cluster_records,
        retrain=retrain,
    )


def _metadata(result: StageResult, config: StageConfig) -> dict[str, dg.MetadataValue]:
    weights = "| comparison | level | m | u | match weight |\n|---|---|---:|---:|---:|\n" + "\n".join(
        f"| {w['comparison']} | {w['level']} | {w['m']} | {w['u']} | {w['match_weight']} |"
        for w in result.match_weights
    )
    metadata: dict[str, dg.MetadataValue] = {
        "mode": dg.MetadataValue.text(result.mode),
        "model_version": dg.MetadataValue.text(result.model_version or "none"),
        "trained_this_run": dg.MetadataValue.bool(result.trained),
        "person_records": dg.MetadataValue.int(result.records),
        "records_featurized": dg.MetadataValue.int(result.records_featurized),
        "records_profiled": dg.MetadataValue.int(result.records_profiled),
        "records_scored": dg.MetadataValue.int(result.records_scored),
        "pairs_scored": dg.MetadataValue.int(result.pairs_scored),
        "pairs_by_status": dg.MetadataValue.json(result.statuses),
        "accept_threshold": dg.MetadataValue.float(config.accept_threshold),
        "review_threshold": dg.MetadataValue.float(config.review_threshold),
        "max_cluster_records": dg.MetadataValue.int(config.max_cluster_records),
        "seconds": dg.MetadataValue.json(result.seconds),
        "parameters": dg.MetadataValue.md(weights),
        "dagster/row_count": dg.MetadataValue.int(sum(result.statuses.values())),
        "dagster/table_name": dg.MetadataValue.text("identity.probabilistic_matches"),
    }
    if result.model_path:
        metadata["model_path"] = dg.MetadataValue.path(result.model_path)
    chart = result.chart_spec or load_chart(result.model_path)
    if chart:
        metadata["match_weights_chart"] = dg.MetadataValue.json(chart)  # Vega-Lite spec
    return metadata


@dg.asset(
    key=MATCHES_KEY,
    deps=UPSTREAM,
    group_name=GROUP,
    kinds={"splink", "duckdb"},
    pool=WAREHOUSE_POOL,
    op_tags={"crm360/writes": "warehouse"},
    description=(
        "Probabilistic identity (splink 5, Fellegi-Sunter trained by EM): pairs of person records "
        "with match probability, evidence and status (accepted / review / blocked by over-merge "
        "protection / reviewer decisions). Incremental: only new or changed records are scored."
    ),
    check_specs=[
        dg.AssetCheckSpec("merges_respect_thresholds_and_guards", asset=MATCHES_KEY, blocking=True),
        dg.AssetCheckSpec("over_merge_protection_report", asset=MATCHES_KEY),
    ],
)
def probabilistic_matches(context: dg.AssetExecutionContext, config: ProbabilisticStageConfig):
    stage = stage_config(config.retrain)
    with warehouse() as con:
        result = run_probabilistic_stage(con, stage)
        violations = con.execute(
            """select count(*) from identity.probabilistic_matches
            where status = 'accepted' and (match_probability < ? or tenant_id is null)""",
            [stage.accept_threshold],
        ).fetchone()[0]
    context.log.info(
        f"probabilistic identity: {result.mode}, {result.records_scored} of {result.records} records scored, "
        f"pairs by status {result.statuses}"
    )
    blocked = {k: v for k, v in result.statuses.items() if k.startswith("blocked")}
    merged = result.statuses.get("accepted", 0) + result.statuses.get("confirmed", 0)
    return dg.MaterializeResult(
        metadata=_metadata(result, stage),
        check_results=[
            dg.AssetCheckResult(
                check_name="merges_respect_thresholds_and_guards",
                passed=violations == 0,
                metadata={"accepted_below_threshold": violations},
            ),
            dg.AssetCheckResult(
                check_name="over_merge_protection_report",
                # a surge of blocked pairs means the model or the data drifted: look at it
                passed=sum(blocked.values()) <= max(10, merged // 2),
                severity=dg.AssetCheckSeverity.WARN,
                metadata={"blocked": dg.MetadataValue.json(blocked), "merging_pairs": merged},
                description="Pairs over-merge protection kept apart (crm360 identity review list shows them).",
            ),
        ],
    )


defs = dg.Definitions(assets=[probabilistic_matches])
