"""Dagster definitions of ingestion: one multi-asset for the raw schema, its checks,
the job, a sensor on landing/ and an hourly schedule.

One multi-asset rather than one asset per table, because one file is one transaction
and files of every entity load in one pass (tenants first); splitting it would mean
several writer steps racing for the single DuckDB writer. Each raw table is still its
own asset key (``raw/<table>``, matching dbt sources named ``raw``) with its own counts
in the UI.

One writer (DESIGN.md decision 1, docs/DECISIONS.md D6): the op declares
``pool="warehouse"`` (pipelines/dagster.yaml limits every pool to one slot, so runs
started by the sensor, the schedule and the UI queue instead of opening the file
twice), and the job uses the in-process executor so its steps never run in separate
processes.
"""

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path

import dagster as dg

from pipelines.ingest.landing import scan_landing
from pipelines.ingest.loader import LoadReport, load_landing
from pipelines.ingest.schema import RAW_SCHEMA, raw_tables
from pipelines.ml import training_selection
from pipelines.ml.assets import SCORING_RUN_TAGS
from pipelines.pools import WAREHOUSE_POOL
from warehouse.connection import warehouse
from warehouse.contract import QUARANTINE_REASONS
from warehouse.settings import get_settings

GROUP = "ingest"
ENTITY_TABLES = tuple(t for t in raw_tables() if t not in ("quarantine", "manifest"))

_DESCRIPTIONS = {
    "tenants": "The tenant registry, loaded first: unknown_tenant checks read it.",
    "events": "Segment-spec messages from landing/events/<tenant_id>/, deduplicated on (tenant_id, message_id).",
    "quarantine": "Every rejected landing row with its file, line, reason code and raw payload.",
    "manifest": "One row per loaded file: sha256 (the exactly-once key) and rows in/loaded/quarantined/duplicates.",
}


def _key(table: str) -> dg.AssetKey:
    return dg.AssetKey([RAW_SCHEMA, table])


def _spec(table: str) -> dg.AssetSpec:
    columns = raw_tables()[table]
    return dg.AssetSpec(
        key=_key(table),
        group_name=GROUP,
        description=_DESCRIPTIONS.get(
            table,
            f"CRM {table} from landing/crm/{table}/, one row per record version (lineage: _file, _line).",
        ),
        kinds={"duckdb"},
        metadata={
            "dagster/column_schema": dg.TableSchema(
                columns=[dg.TableColumn(c.name, c.type, description=c.description) for c in columns]
            ),
            "dagster/table_name": f"{RAW_SCHEMA}.{table}",
        },
    )


def _entity_metadata(report: LoadReport, table: str, total_rows: int) -> dict[str, dg.MetadataValue]:
    counts = report.by_entity().get(table, {})
    return {
        "files_loaded": dg.MetadataValue.int(counts.get("files", 0)),
        "rows_in": dg.MetadataValue.int(counts.get("rows_in", 0)),
        "rows_loaded": dg.MetadataValue.int(counts.get("loaded", 0)),
        "rows_quarantined": dg.MetadataValue.int(counts.get("quarantined", 0)),
        "duplicates": dg.MetadataValue.int(counts.get("duplicates", 0)),
        "dagster/row_count": dg.MetadataValue.int(total_rows),
    }


def _run_metadata(report: LoadReport) -> dict[str, dg.MetadataValue]:
    per_entity = report.by_entity()
    table = dg.MetadataValue.md(
        "| entity | files | rows in | loaded | quarantined | duplicates |\n|---|---:|---:|---:|---:|---:|\n"
        + "\n".join(
            f"| {e} | {c['files']} | {c['rows_in']} | {c['loaded']} | {c['quarantined']} | {c['duplicates']} |"
            for e, c in sorted(per_entity.items())
        )
    )
    return {
        **{name: dg.MetadataValue.int(value) for name, value in report.totals().items()},
        "per_entity": table,
        "files_already_loaded": dg.MetadataValue.int(len(report.already_loaded)),
        "same_content_skipped": dg.MetadataValue.json([list(pair) for pair in report.same_content]),
        "unrecognised_files": dg.MetadataValue.json(report.unrecognised),
        "failed_files": dg.MetadataValue.json([list(pair) for pair in report.failed]),
    }


@dg.multi_asset(
    name="raw_landing",
    specs=[_spec(table) for table in raw_tables()],
    can_subset=False,
    pool=WAREHOUSE_POOL,
    description="Load new landing/ files into the raw schema: exactly once per file, nothing dropped.",
)
def raw_landing(context: dg.AssetExecutionContext) -> Iterator[dg.MaterializeResult]:
    settings = get_settings()
    fingerprint, _ = landing_fingerprint()  # before the load: a file landing during it counts as new
    with warehouse(settings=settings) as con:
        report = load_landing(settings.landing_dir, con)
        totals = {
            table: con.execute(f'SELECT count(*) FROM {RAW_SCHEMA}."{table}"').fetchone()[0]
            for table in raw_tables()
        }
    context.log.info("ingest: %s", json.dumps(report.totals()))
    for table in ENTITY_TABLES:
        yield dg.MaterializeResult(
            asset_key=_key(table), metadata=_entity_metadata(report, table, totals[table])
        )
    reasons = report.reasons()
    yield dg.MaterializeResult(
        asset_key=_key("quarantine"),
        metadata={
            "rows_quarantined": dg.MetadataValue.int(sum(reasons.values())),
            **{f"reason/{code}": dg.MetadataValue.int(reasons.get(code, 0)) for code in QUARANTINE_REASONS},
            "dagster/row_count": dg.MetadataValue.int(totals["quarantine"]),
        },
    )
    yield dg.MaterializeResult(
        asset_key=_key("manifest"),
        metadata={**_run_metadata(report), "dagster/row_count": dg.MetadataValue.int(totals["manifest"])},
    )
    if not report.failed:
        _loaded_fingerprint_path().write_text(fingerprint)
    if report.failed:
        # Loaded files stay committed; the failed ones were rolled back and are retried
        # by the next run. Failing the step makes that visible.
        raise dg.Failure(
            description=f"{len(report.failed)} landing file(s) failed to load and were rolled back",
            metadata={"failed_files": dg.MetadataValue.json([list(pair) for pair in report.failed])},
        )


@dg.asset_check(asset=_key("manifest"), blocking=True, pool=WAREHOUSE_POOL)
def manifest_reconciles() -> dg.AssetCheckResult:
    """Every loaded file's rows add up: rows_in = loaded + quarantined + duplicates + suppressed."""
    with warehouse() as con:
        bad = con.execute(
            f"SELECT file FROM {RAW_SCHEMA}.manifest "
            "WHERE rows_in <> loaded + quarantined + duplicates + coalesce(suppressed, 0)"
        ).fetchall()
    return dg.AssetCheckResult(
        passed=not bad, metadata={"files_not_reconciling": dg.MetadataValue.json([r[0] for r in bad])}
    )


@dg.asset_check(asset=_key("events"), blocking=True, pool=WAREHOUSE_POOL)
def events_unique_per_tenant_message() -> dg.AssetCheckResult:
    """No (tenant_id, message_id) is loaded twice."""
    with warehouse() as con:
        repeated = con.execute(
            f"SELECT count(*) FROM (SELECT 1 FROM {RAW_SCHEMA}.events GROUP BY tenant_id, message_id "
            "HAVING count(*) > 1)"
        ).fetchone()[0]
    return dg.AssetCheckResult(
        passed=repeated == 0, metadata={"repeated_keys": dg.MetadataValue.int(repeated)}
    )


ingest_assets = [raw_landing]
ingest_checks = [manifest_reconciles, events_unique_per_tenant_message]

refresh_job = dg.define_asset_job(
    name="refresh_job",
    # New landing data must reach the marts and the serving snapshot, not stop at raw. The
    # feature marts and scores are downstream too, and so is the ML training chain: that is
    # left to the weekly ml_retrain_job, so new files are scored with the production models.
    selection=dg.AssetSelection.groups(GROUP).downstream() - training_selection,
    executor_def=dg.in_process_executor,
    tags=SCORING_RUN_TAGS,
    description=(
        "Load new landing/ files into raw, then rebuild everything downstream (dbt, feature marts, "
        "scores with the production models, snapshot); training stays with ml_retrain_job."
    ),
)


def _loaded_fingerprint_path() -> Path:
    """Where the ingest asset records the landing fingerprint it last loaded in full."""
    return get_settings().data_dir / "landing_loaded.sha256"


def landing_fingerprint() -> tuple[str, int]:
    """A hash of what landing/ holds (names, sizes, mtimes) and the number of files."""
    files, _ = scan_landing(get_settings().landing_dir)
    digest = hashlib.sha256()
    for f in files:
        digest.update(f"{f.relative}\0{f.size}\0{f.mtime_ns}\n".encode())
    return digest.hexdigest(), len(files)


@dg.sensor(job=refresh_job, minimum_interval_seconds=60, default_status=dg.DefaultSensorStatus.RUNNING)
def ingest_sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult | dg.SkipReason:
    """Request an ingest run when landing/ changes.

    The cursor is a fingerprint of every landing file's name, size and mtime: any new
    (or rewritten) file changes it. The run key is the fingerprint too, so the same
    state of landing/ never triggers two runs. A run refreshes everything downstream
    (dbt, ML, the snapshot), so none is requested for a landing/ that the ingest asset
    has already loaded in full, as after `crm360 build` or a run from the UI: the
    sensor's first tick after a start would otherwise refresh it all again.
    """
    fingerprint, count = landing_fingerprint()
    if count == 0:
        return dg.SkipReason("landing/ holds no files")
    if fingerprint == context.cursor:
        return dg.SkipReason("no new landing files")
    loaded = _loaded_fingerprint_path()
    if loaded.exists() and loaded.read_text() == fingerprint:
        return dg.SensorResult(skip_reason="landing/ is loaded already", cursor=fingerprint)
    return dg.SensorResult(run_requests=[dg.RunRequest(run_key=fingerprint)], cursor=fingerprint)


ingest_schedule = dg.ScheduleDefinition(
    name="ingest_hourly",
    job=refresh_job,
    cron_schedule="0 * * * *",
    description="Hourly safety net: retries files that failed and catches anything the sensor missed.",
)

defs = dg.Definitions(
    assets=ingest_assets,
    asset_checks=ingest_checks,
    jobs=[refresh_job],
    sensors=[ingest_sensor],
    schedules=[ingest_schedule],
)
