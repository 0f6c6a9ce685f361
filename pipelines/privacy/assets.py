"""Dagster side of privacy: erasures (sensor-driven) and retention (scheduled).

- ``privacy/erasures``: carries out every pending erasure request (warehouse/erasure.py):
  deletes the subject from landing, raw, quarantine, every model and ML table,
  compacts the warehouse, publishes a snapshot without them and deletes older snapshots
  that hold them. ``erasure_sensor`` starts ``erasure_job`` as soon as the API or
  ``crm360 erase`` records a request.
- ``privacy/retention``: applies warehouse/retention.toml every day (``retention_schedule``).

Both write the warehouse, so they take the ``warehouse`` pool (DESIGN.md decision 1).

No ``from __future__ import annotations``: Dagster reads the context annotation.
"""

import dagster as dg

from pipelines.pools import WAREHOUSE_POOL
from warehouse.connection import warehouse
from warehouse.erasure import process_pending_erasures
from warehouse.privacy_requests import pending_erasures
from warehouse.retention import enforce_retention
from warehouse.settings import get_settings

GROUP = "privacy"


@dg.asset(
    key=["privacy", "erasures"],
    group_name=GROUP,
    pool=WAREHOUSE_POOL,
    description=(
        "Carries out pending erasure requests (GDPR art. 17): the subject's whole identity cluster "
        "leaves landing files, raw, quarantine, every dbt and ML table and every snapshot; their "
        "identifiers are suppressed at ingest. Metadata: counts per table, never the data."
    ),
)
def erasures(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    results = process_pending_erasures()
    failed = [r["request_id"] for r in results if r["status"] != "completed"]
    totals: dict[str, int] = {}
    for result in results:
        for table, count in result.get("deleted", {}).items():
            totals[table] = totals.get(table, 0) + count
    context.log.info("erasures: %d processed, %d failed", len(results), len(failed))
    if failed:
        raise dg.Failure(description=f"erasure failed: {', '.join(failed)}", metadata={"failed": failed})
    return dg.MaterializeResult(
        metadata={
            "requests": dg.MetadataValue.int(len(results)),
            "rows_deleted": dg.MetadataValue.int(sum(totals.values())),
            "deleted_per_table": dg.MetadataValue.json(totals),
            "landing_rows_removed": dg.MetadataValue.int(
                sum(r.get("landing_rows_removed", 0) for r in results)
            ),
            "seconds": dg.MetadataValue.json([r.get("seconds") for r in results]),
        }
    )


@dg.asset(
    key=["privacy", "retention"],
    group_name=GROUP,
    pool=WAREHOUSE_POOL,
    description="Deletes rows older than each table's policy in warehouse/retention.toml; counts per table.",
)
def retention(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    with warehouse() as con:
        report = enforce_retention(con)
        con.execute("checkpoint")
    deleted = {t: r["deleted"] for t, r in report.items() if "deleted" in r}
    context.log.info("retention: %s", deleted)
    return dg.MaterializeResult(
        metadata={
            "rows_deleted": dg.MetadataValue.int(sum(deleted.values())),
            "deleted_per_table": dg.MetadataValue.json(deleted),
            "policies": dg.MetadataValue.json(report),
        }
    )


erasure_job = dg.define_asset_job(
    name="erasure_job",
    selection=dg.AssetSelection.assets(erasures),
    executor_def=dg.in_process_executor,
    description="Carry out pending erasure requests end to end, then publish a snapshot without the subjects.",
)
retention_job = dg.define_asset_job(
    name="retention_job",
    selection=dg.AssetSelection.assets(retention),
    executor_def=dg.in_process_executor,
    description="Enforce per-table retention policies (warehouse/retention.toml).",
)


@dg.sensor(job=erasure_job, minimum_interval_seconds=30, default_status=dg.DefaultSensorStatus.RUNNING)
def erasure_sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult | dg.SkipReason:
    """Start the erasure job when requests are waiting (one run per set of request ids)."""
    settings = get_settings()
    if not settings.ops_db_path.exists():
        return dg.SkipReason("no operational store yet")
    pending = sorted(r["request_id"] for r in pending_erasures(settings))
    if not pending:
        return dg.SkipReason("no pending erasure requests")
    return dg.SensorResult(run_requests=[dg.RunRequest(run_key="erasures:" + ",".join(pending))])


retention_schedule = dg.ScheduleDefinition(
    job=retention_job,
    cron_schedule="30 3 * * *",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Daily retention enforcement.",
)

defs = dg.Definitions(
    assets=[erasures, retention],
    jobs=[erasure_job, retention_job],
    sensors=[erasure_sensor],
    schedules=[retention_schedule],
)
