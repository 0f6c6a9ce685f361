"""dbt build time at a scale, and the rebuild after 1% more raw data.

    python -m benchmarks.dbt_build --scale demo [--seed 42] [--workdir DIR]

1. Generates the data set into the work dir (once) and loads it with the ingest loader;
   keeps a copy of the raw-only warehouse as the baseline.
2. Full build: `dbt build` (models, seeds and all tests) on a copy of the baseline.
3. Rebuild: adds 1% of each raw table again as new data (events with new messageIds,
   CRM rows as new versions of their records, loaded now), then `dbt build` again, the way
   the pipeline runs after a load: incremental models only process what is new. The new
   events are the next slice of time, as a load brings them: each sampled event moves to
   after the tenant's latest one, keeping its offset scaled by 1/100.
4. Late-data rebuild: another 1% whose events land at random points of the history (each
   sampled event one hour later), as late or replayed data does, then `dbt build` again.
   This is the worst case for sessions (a late event re-numbers the sessions after it).
5. No-data rebuild: `dbt build` once more with nothing new: what every run costs before
   it processes anything (tests, marts rebuilt in full, incremental models finding out
   that nothing changed).
All builds use the same dbt target folder, so a rebuild parses partially, as Dagster's
runs do, and pass the vars of refresh_job, the job a load starts: its feature marts
recompute their scoring rows, and keep the training rows for the weekly retrain (a first
build computes both). Writes benchmarks/results/dbt_build_<scale>.json with per-model times
and the CPU seconds of each build's dbt process.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"
INCREMENT = 0.01


def prepare_workdir(workdir: Path, scale: str, seed: int):
    """Point the settings at ``workdir``; generate and load the data set there if absent."""
    workdir = workdir.resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    os.environ["CRM360_HOME"] = str(workdir)
    from warehouse.settings import get_settings

    settings = get_settings()
    baseline = workdir / "raw_baseline.duckdb"
    if not (settings.landing_dir.exists() and any(settings.landing_dir.rglob("*.*"))):
        from pipelines.generator import generate

        started = time.perf_counter()
        generate(scale, seed, settings.landing_dir, settings.ground_truth_dir)
        print(f"generated {scale} in {time.perf_counter() - started:.0f}s", flush=True)
    if not baseline.exists():
        from pipelines.ingest.loader import load_landing
        from warehouse.connection import warehouse

        settings.warehouse_path.unlink(missing_ok=True)
        started = time.perf_counter()
        with warehouse(settings=settings) as con:
            load_landing(settings.landing_dir, con)
            con.execute("checkpoint")
        print(f"loaded in {time.perf_counter() - started:.0f}s", flush=True)
        shutil.copyfile(settings.warehouse_path, baseline)
    # A WAL left by a killed run belongs to the old file and would not replay on the copy.
    settings.warehouse_path.with_name(settings.warehouse_path.name + ".wal").unlink(missing_ok=True)
    shutil.copyfile(baseline, settings.warehouse_path)
    return settings


def run_dbt_build(workdir: Path, *extra: str) -> float:
    from pipelines.dbt.cli import BUILD_ARGS, run_dbt

    started = time.perf_counter()
    completed = run_dbt(
        [*BUILD_ARGS, *extra],
        home=workdir,
        target_path=workdir / "dbt_target",
        log_path=workdir / "dbt_logs",
        capture=True,
    )
    seconds = time.perf_counter() - started
    if completed.returncode != 0:
        raise RuntimeError(f"dbt build failed:\n{completed.stdout[-5000:]}")
    return seconds


def _build_measured(workdir: Path, *extra: str) -> tuple[float, float]:
    """Wall seconds of a `dbt build` and the CPU seconds its process used: on 2 cores, how
    close to 2.0 their ratio is says whether less work or better overlap can help."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    seconds = run_dbt_build(workdir, *extra)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return seconds, round(cpu, 1)


def _timings(workdir: Path) -> tuple[float, list[tuple[str, float]]]:
    results = json.loads((workdir / "dbt_target" / "run_results.json").read_text())
    per_node = sorted(
        ((r["unique_id"].split(".", 2)[-1], round(r["execution_time"], 2)) for r in results["results"]),
        key=lambda item: -item[1],
    )
    return round(results["elapsed_time"], 1), per_node[:12]


def add_increment(settings, late: bool = False) -> dict[str, int]:
    """Add 1% of every raw table again as new data; return the rows added per table.

    Events get new messageIds and, unless ``late``, timestamps after the tenant's latest
    event (the sample's offsets from the first event, divided by 100); ``late`` events are
    one hour after the sampled ones, anywhere in the history."""
    from pipelines.ingest.schema import raw_tables
    from warehouse.connection import warehouse

    added = {}
    with warehouse(settings=settings) as con:
        for table in raw_tables():
            if table in ("quarantine", "manifest", "tenants"):
                continue
            source, seed = f'raw."{table}"', 11 if late else 7
            if table == "events" and late:
                replace = (
                    "message_id || '-late-' || epoch_ms(now())::varchar as message_id, "
                    "timestamp + interval 1 hour as timestamp"
                )
            elif table == "events":
                source = """(select events.*, span.first_at, span.last_at from raw.events
                    inner join (select tenant_id, min(timestamp) as first_at, max(timestamp) as last_at
                        from raw.events group by tenant_id) as span using (tenant_id))"""
                replace = (
                    "message_id || '-inc-' || epoch_ms(now())::varchar as message_id, "
                    "last_at + to_microseconds((epoch_us(timestamp) - epoch_us(first_at)) // 100) "
                    "as timestamp"
                )
            else:
                replace = "updated_at + interval 1 day as updated_at"
            exclude = "exclude (first_at, last_at)" if "span" in source else ""
            count = con.execute(
                f"""insert into raw."{table}"
                select * {exclude} replace ({replace}, 'bench/increment' as _file, now() as _loaded_at)
                from {source} using sample {INCREMENT * 100}% (bernoulli, {seed})"""
            ).fetchone()[0]
            added[table] = int(count)
        con.execute("checkpoint")
    return added


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", default="demo")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--workdir", type=Path, default=None)
    args = parser.parse_args(argv)
    workdir = (args.workdir or Path(__file__).resolve().parent / "work" / f"dbt-{args.scale}").resolve()

    settings = prepare_workdir(workdir, args.scale, args.seed)
    from warehouse.connection import warehouse

    with warehouse(read_only=True, settings=settings) as con:
        raw_rows = dict(
            con.execute(
                "select table_name, estimated_size from duckdb_tables() where schema_name = 'raw'"
            ).fetchall()
        )

    from pipelines.ml.assets import SCORING_RUN_TAGS, ml_datasets_vars

    refresh_vars = ml_datasets_vars(SCORING_RUN_TAGS)
    full_seconds, full_cpu = _build_measured(workdir, *refresh_vars)
    full_elapsed, full_top = _timings(workdir)
    print(f"full build {full_seconds:.1f}s", flush=True)
    added = add_increment(settings)
    rebuild_seconds, rebuild_cpu = _build_measured(workdir, *refresh_vars)
    rebuild_elapsed, rebuild_top = _timings(workdir)
    print(f"rebuild after +1% {rebuild_seconds:.1f}s", flush=True)
    late_added = add_increment(settings, late=True)
    late_seconds, late_cpu = _build_measured(workdir, *refresh_vars)
    late_elapsed, late_top = _timings(workdir)
    print(f"rebuild after +1% late data {late_seconds:.1f}s", flush=True)
    noop_seconds, noop_cpu = _build_measured(workdir, *refresh_vars)
    noop_elapsed, noop_top = _timings(workdir)
    print(f"rebuild with no new data {noop_seconds:.1f}s", flush=True)

    result = {
        "benchmark": "dbt_build",
        "scale": args.scale,
        "seed": args.seed,
        "machine": f"{platform.machine()} {platform.system()}, {os.cpu_count()} cpus",
        "raw_rows": raw_rows,
        "increment_rows": added,
        "full_build_seconds": round(full_seconds, 1),
        "full_build_dbt_elapsed": full_elapsed,
        "full_build_cpu_seconds": full_cpu,
        "rebuild_seconds": round(rebuild_seconds, 1),
        "rebuild_dbt_elapsed": rebuild_elapsed,
        "rebuild_cpu_seconds": rebuild_cpu,
        "rebuild_ratio": round(rebuild_seconds / full_seconds, 3),
        "target_ratio": 0.2,
        "late_increment_rows": late_added,
        "late_rebuild_seconds": round(late_seconds, 1),
        "late_rebuild_dbt_elapsed": late_elapsed,
        "late_rebuild_cpu_seconds": late_cpu,
        "late_rebuild_ratio": round(late_seconds / full_seconds, 3),
        "noop_rebuild_seconds": round(noop_seconds, 1),
        "noop_rebuild_dbt_elapsed": noop_elapsed,
        "noop_rebuild_cpu_seconds": noop_cpu,
        "noop_rebuild_ratio": round(noop_seconds / full_seconds, 3),
        "slowest_full": full_top,
        "slowest_rebuild": rebuild_top,
        "slowest_late_rebuild": late_top,
        "slowest_noop_rebuild": noop_top,
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"dbt_build_{args.scale}.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
