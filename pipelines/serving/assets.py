"""The publish asset: marts and scores -> a new serving snapshot, pointer switched.

Group ``serving``, downstream of every mart (and of the ML score assets once they
exist). It runs only on checked data: the dbt tests of error severity are blocking
asset checks, so in a run that builds the marts Dagster skips this asset when one fails;
and for runs that select it alone, the asset itself refuses to publish while the latest
evaluation of any blocking check upstream has failed.

It opens the warehouse read-only: it copies out of the warehouse and writes only the
new snapshot file (attached to the same connection) and the pointer. It still takes
the ``warehouse`` pool slot so that it never overlaps a writer step, and copies with
one DuckDB thread so that the API serving on the same machine keeps a core.

No ``from __future__ import annotations``: Dagster reads the context annotation.
"""

import warnings
from collections.abc import Sequence

import dagster as dg

from pipelines.pools import WAREHOUSE_POOL
from warehouse.settings import get_settings
from warehouse.snapshots import publish_from_warehouse, read_pointer

GROUP = "serving"
SNAPSHOT_KEY = dg.AssetKey(["serving", "snapshot"])
# The marts the API needs; the others (and the ML scores) are copied when present.
CORE_MARTS: tuple[dg.AssetKey, ...] = tuple(
    dg.AssetKey(["marts", name])
    for name in (
        "customer_360",
        "customer_identifiers",
        "customer_aliases",
        "customer_merges",
        "customer_timeline",
    )
)


def failed_blocking_checks(
    instance: dg.DagsterInstance, upstream: Sequence[dg.AssetKey], scan: int = 20_000
) -> list[str]:
    """Blocking checks on ``upstream`` whose latest evaluation failed.

    Read from the event log rather than from the job's asset graph, because a run that
    selects only this asset has no checks in its graph.
    """
    wanted = set(upstream)
    with warnings.catch_warnings():
        # Deprecated for Dagster 2.0, which has no other query for evaluations by asset yet.
        warnings.simplefilter("ignore", DeprecationWarning)
        records = instance.get_event_records(
            dg.EventRecordsFilter(event_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION),
            limit=scan,
            ascending=False,
        )
    latest: dict[tuple[dg.AssetKey, str], bool] = {}
    for record in records:
        evaluation = record.event_log_entry.dagster_event.event_specific_data
        if evaluation.asset_key not in wanted or not evaluation.blocking:
            continue
        latest.setdefault((evaluation.asset_key, evaluation.check_name), evaluation.passed)
    return sorted(f"{key.to_user_string()}:{name}" for (key, name), passed in latest.items() if not passed)


def build_serving_assets(upstream: Sequence[dg.AssetKey] = CORE_MARTS) -> list[dg.AssetsDefinition]:
    """The publish asset, downstream of ``upstream`` (pass every mart and score asset key)."""
    upstream = list(dict.fromkeys(upstream))

    @dg.asset(
        key=SNAPSHOT_KEY,
        group_name=GROUP,
        deps=upstream,
        pool=WAREHOUSE_POOL,
        kinds={"duckdb"},
        description=(
            "A new encrypted, versioned copy of every mart and ML table for the API and the dashboards; "
            "the pointer switches atomically once it is complete, and the last N are kept."
        ),
    )
    def serving_snapshot(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
        failed = failed_blocking_checks(context.instance, upstream)
        if failed:
            raise dg.Failure(
                description="not publishing: blocking checks upstream failed",
                metadata={"failed_checks": dg.MetadataValue.json(failed)},
            )
        settings = get_settings()
        previous = read_pointer(settings.snapshots_dir)
        info = publish_from_warehouse(settings)
        rows = "\n".join(f"| {table} | {count:,} |" for table, count in sorted(info.tables.items()))
        return dg.MaterializeResult(
            metadata={
                "version": info.version,
                "previous_version": previous.version if previous else "none",
                "path": dg.MetadataValue.path(str(info.path)),
                "tables": dg.MetadataValue.md("| table | rows |\n|---|---:|\n" + rows),
                "model_versions": dg.MetadataValue.json(info.model_versions),
                "dagster/row_count": info.tables.get("customer_360", 0),
                "size_mb": round(info.path.stat().st_size / 1e6, 2),
            }
        )

    return [serving_snapshot]


@dg.asset_check(
    asset=SNAPSHOT_KEY, description="The published snapshot opens read-only and matches its own record."
)
def snapshot_is_readable() -> dg.AssetCheckResult:
    from warehouse.connection import load_key
    from warehouse.snapshots import open_snapshot, snapshot_info

    settings = get_settings()
    pointer = read_pointer(settings.snapshots_dir)
    if pointer is None:
        return dg.AssetCheckResult(passed=False, metadata={"reason": "no pointer"})
    path = pointer.path(settings.snapshots_dir)
    con = open_snapshot(path, load_key(settings))
    try:
        info = snapshot_info(con, path)
        mismatched = {
            table: count
            for table, count in info.tables.items()
            if con.execute(f'select count(*) from "{table}"').fetchone()[0] != count
        }
    finally:
        con.close()
    return dg.AssetCheckResult(
        passed=info.version == pointer.version and not mismatched,
        metadata={"version": info.version, "mismatched_tables": dg.MetadataValue.json(mismatched)},
    )


serving_assets = build_serving_assets()
serving_checks = [snapshot_is_readable]
