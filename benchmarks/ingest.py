"""Ingest throughput and peak memory, against a bare DuckDB load of the same files.

    .venv/bin/python -m benchmarks.ingest --scale large        # the generator's output
    .venv/bin/python -m benchmarks.ingest --landing DIR         # any landing/ folder
    .venv/bin/python -m benchmarks.ingest --synthetic 1000000   # no generator needed

Two data sets, each measured both ways, alternating, ``--repeat`` times (median kept):

- JSONL: every events file (.jsonl and .jsonl.gz) of the landing folder.
  *ingest*: ``load_landing`` (sha256, validation, dedup, quarantine, manifest, one
  transaction per file). *bare*: one ``CREATE TABLE AS SELECT * FROM read_json(files,
  ignore_errors=true)``: auto-detected types, no checks, bad lines silently dropped.
- Parquet: the loader has no Parquet events (events are JSONL by contract), so this is
  every CRM Parquet file of the landing folder; when those hold fewer than
  ``--min-parquet-rows`` rows, the largest CRM entity's CSV rows are converted into
  extra Parquet files first (the output says so). *bare*: ``read_parquet`` per entity.

Both sides write into a fresh, encrypted warehouse opened through
warehouse/connection.py (same key, same settings, same thread count) and end with a
CHECKPOINT, so both pay for compression, encryption and the disk. Each measurement runs
in its own subprocess; its peak memory is that process's max RSS (which includes the
Python interpreter and DuckDB, ~100 MB, on both sides), and its CPU seconds (user +
system, all threads) are recorded too, with the thread count and memory limit each
side ran with. Figures are printed and written to benchmarks/results/ingest.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
WORK = REPO_ROOT / "benchmarks" / "work"
RESULTS = REPO_ROOT / "benchmarks" / "results" / "ingest.json"
BENCH_KEY = "benchmark-key-" + "0" * 50


# ------------------------------------------------------------------ worker side


def _worker(mode: str, landing: Path, home: Path) -> dict:
    """One measurement, in a fresh process: load ``landing`` one way, report rows and time."""
    os.environ["CRM360_HOME"] = str(home)
    os.environ["CRM360_ENCRYPTION_KEY"] = BENCH_KEY
    from pipelines.ingest import load_landing
    from pipelines.ingest.landing import scan_landing
    from warehouse.connection import warehouse

    files, _ = scan_landing(landing)
    with warehouse() as con:
        # The first parameterised query imports numpy/pandas in the duckdb client (~1.5 s):
        # a per-process cost, not a per-row one, so both sides pay it before the clock.
        con.execute("SELECT ?", [1]).fetchall()
        started = time.perf_counter()
        if mode == "ingest":
            report = load_landing(landing, con)
            assert report.ok, report.failed
            totals = report.totals()
            rows = sum(f.rows_in for f in report.loaded if f.entity != "tenants")
            detail = {k: v for k, v in totals.items() if k != "files"}
        else:
            rows, detail = 0, {}
            by_entity: dict[str, list[str]] = {}
            for f in files:
                if f.entity != "tenants":
                    by_entity.setdefault(f.entity, []).append(str(f.path))
            for entity, paths in by_entity.items():
                listing = "[" + ", ".join("'" + p.replace("'", "''") + "'" for p in paths) + "]"
                if mode == "bare_json":
                    source = f"read_json({listing}, format='newline_delimited', ignore_errors=true)"
                else:
                    source = f"read_parquet({listing}, union_by_name=true)"
                con.execute(f'CREATE TABLE "bare_{entity}" AS SELECT * FROM {source}')
                rows += con.execute(f'SELECT count(*) FROM "bare_{entity}"').fetchone()[0]
            con.execute("CHECKPOINT")
        seconds = time.perf_counter() - started
        # Recorded so that the figures show both sides ran with the same resources.
        threads, memory_limit = con.execute(
            "SELECT current_setting('threads'), current_setting('memory_limit')"
        ).fetchone()
    return {
        "mode": mode,
        "rows": rows,
        "seconds": seconds,
        "threads": threads,
        "memory_limit": memory_limit,
        **detail,
    }


# ------------------------------------------------------------------ driver side


def _measure(mode: str, landing: Path) -> dict:
    home = Path(tempfile.mkdtemp(prefix=f"bench-{mode}-", dir=WORK))
    try:
        command = [
            sys.executable,
            "-m",
            "benchmarks.ingest",
            "--worker",
            mode,
            "--landing",
            str(landing),
            "--home",
            str(home),
        ]
        process = subprocess.Popen(command, cwd=REPO_ROOT, stdout=subprocess.PIPE, text=True)
        assert process.stdout is not None
        output = process.stdout.read()
        _, status, usage = os.wait4(process.pid, 0)
        if os.waitstatus_to_exitcode(status) != 0:
            raise RuntimeError(f"{mode} worker failed: {output}")
        result = json.loads(output.strip().splitlines()[-1])
        result["max_rss_mb"] = round(usage.ru_maxrss / 1024, 1)  # KiB on Linux
        # CPU seconds (all threads) depend far less than wall time on other work running
        # on the shared machine, so they show whether a change did less work.
        result["cpu_seconds"] = round(usage.ru_utime + usage.ru_stime, 1)
        result["warehouse_mb"] = round(sum(p.stat().st_size for p in home.rglob("*.duckdb")) / 1e6, 1)
        return result
    finally:
        shutil.rmtree(home, ignore_errors=True)


def _link_set(name: str, files: dict[str, Path], landing: Path) -> Path:
    """A landing folder of symlinks: the tenants plus ``files`` ({relative path: source})."""
    target = WORK / name
    shutil.rmtree(target, ignore_errors=True)
    tenants = {p.relative_to(landing).as_posix(): p for p in sorted((landing / "tenants").glob("*.csv"))}
    for relative, source in {**tenants, **files}.items():
        link = target / relative
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(source.resolve())
    return target


def _synthetic_landing(events: int, out: Path) -> Path:
    """Segment-like events for two tenants, when the generator is not available."""
    import random
    import uuid

    from warehouse.contract import TENANT_COLUMNS

    shutil.rmtree(out, ignore_errors=True)
    (out / "tenants").mkdir(parents=True)
    (out / "tenants" / "tenants.csv").write_text(
        ",".join(c.name for c in TENANT_COLUMNS)
        + "\nacme,Acme,GB,Europe/London,GBP,2024-01-01T00:00:00Z\nglobex,Globex,US,America/New_York,USD,"
        "2024-01-01T00:00:00Z\n"
    )
    rng = random.Random(42)
    per_file = 250_000
    for index in range(0, events, per_file):
        tenant = "acme" if index % (2 * per_file) == 0 else "globex"
        path = out / "events" / tenant / f"batch-{index // per_file:04d}.jsonl"
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w") as handle:
            for n in range(index, min(index + per_file, events)):
                kind = rng.choice(("track", "track", "track", "page", "identify"))
                message = {
                    "messageId": str(uuid.UUID(int=rng.getrandbits(128))),
                    "type": kind,
                    "anonymousId": f"anon-{rng.randrange(200_000)}",
                    "userId": f"user-{rng.randrange(50_000)}" if rng.random() < 0.6 else None,
                    "timestamp": f"2025-0{1 + n % 9}-1{n % 10}T1{n % 10}:2{n % 10}:00.{n % 1000:03d}Z",
                    "sentAt": "2025-10-01T00:00:00Z",
                    "context": {
                        "ip": f"10.{n % 256}.{(n // 256) % 256}.1",
                        "library": {"name": "analytics.js", "version": "5.2.0"},
                        "page": {"url": f"https://{tenant}.example/p/{n % 500}", "title": "Page"},
                        "userAgent": "Mozilla/5.0 (X11; Linux x86_64)",
                    },
                }
                if kind == "track":
                    message["event"] = rng.choice(("Product Viewed", "Order Completed", "Signed Up"))
                    message["properties"] = {"revenue": round(rng.random() * 100, 2), "currency": "GBP"}
                elif kind == "page":
                    message["name"] = "Home"
                    message["properties"] = {"path": f"/p/{n % 500}"}
                else:
                    message["traits"] = {"email": f"person{n % 50_000}@{tenant}.example", "plan": "pro"}
                if message["userId"] is None:
                    del message["userId"]
                handle.write(json.dumps(message) + "\n")
    return out


def _parquet_files(landing: Path, min_rows: int) -> tuple[dict[str, Path], str]:
    """CRM Parquet files to benchmark ({relative path: source}), converting CSV rows when too few."""
    import duckdb

    files = {p.relative_to(landing).as_posix(): p for p in sorted(landing.glob("crm/*/*.parquet"))}
    con = duckdb.connect()
    listing = [str(p) for p in files.values()]
    rows = con.execute(f"SELECT count(*) FROM read_parquet({listing})").fetchone()[0] if files else 0
    note = f"{len(files)} CRM Parquet files written by the data source ({rows} rows)"
    if rows >= min_rows:
        return files, note
    csv_sizes: dict[str, int] = {}
    for path in landing.glob("crm/*/*.csv"):
        csv_sizes[path.parent.name] = csv_sizes.get(path.parent.name, 0) + path.stat().st_size
    if not csv_sizes:
        return files, note
    entity = max(csv_sizes, key=csv_sizes.__getitem__)
    out = WORK / "parquet-converted" / entity
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    sources = [str(p) for p in sorted(landing.glob(f"crm/{entity}/*.csv"))]
    # all_varchar keeps values as text, so the loader's type checks still run on them;
    # rows DuckDB cannot parse (the malformed_csv ones) are left out of the conversion.
    con.execute(
        f"COPY (SELECT * FROM read_csv({sources}, all_varchar=true, ignore_errors=true, union_by_name=true)) "
        f"TO '{out}' (FORMAT parquet, FILE_SIZE_BYTES '64MB')"
    )
    converted = sorted(out.rglob("*.parquet"))
    for index, path in enumerate(converted):
        files[f"crm/{entity}/converted-{index:03d}.parquet"] = path
    converted_rows = con.execute(
        f"SELECT count(*) FROM read_parquet({[str(p) for p in converted]})"
    ).fetchone()[0]
    note += f"; plus {entity}'s CSV rows converted by the benchmark into {len(converted)} Parquet files "
    note += f"({converted_rows} rows, all columns VARCHAR)"
    return files, note


def _run(args: argparse.Namespace) -> int:
    WORK.mkdir(parents=True, exist_ok=True)
    if args.landing:
        landing, origin = Path(args.landing).resolve(), f"landing folder {args.landing}"
    elif args.synthetic:
        landing = _synthetic_landing(args.synthetic, WORK / f"synthetic-{args.synthetic}")
        origin = f"synthetic events ({args.synthetic}) written by benchmarks/ingest.py"
    else:
        from pipelines.generator import generate

        landing = WORK / f"landing-{args.scale}"
        if not (landing / "tenants").exists():
            print(f"generating the {args.scale} data set (seed 42) into {landing}", flush=True)
            generate(scale=args.scale, seed=42, out=landing, truth_out=WORK / f"truth-{args.scale}")
        origin = f"pipelines.generator scale={args.scale} seed=42"

    event_files = sorted([*landing.glob("events/*/*.jsonl"), *landing.glob("events/*/*.jsonl.gz")])
    events = {p.relative_to(landing).as_posix(): p for p in event_files}
    sets = {}
    if "jsonl" in args.sets:
        sets["jsonl_events"] = (_link_set("set-jsonl", events, landing), f"{len(events)} events files")
    parquet, note = _parquet_files(landing, args.min_parquet_rows) if "parquet" in args.sets else ({}, "")
    if parquet:
        sets["parquet_crm"] = (_link_set("set-parquet", parquet, landing), note)

    results: dict = {
        "machine": {
            "cpus": os.cpu_count(),
            "cpu": _cpu_model(),
            "python": platform.python_version(),
            "duckdb": __import__("duckdb").__version__,
            "note": "shared machine: other work may run at the same time; medians of alternating runs",
        },
        "data": origin,
        "fairness": "both sides load into a fresh encrypted warehouse via warehouse/connection.py, same "
        "threads, and end with CHECKPOINT; bare = CREATE TABLE AS SELECT * FROM read_json/read_parquet "
        "(ignore_errors for JSON), no validation, dedup, quarantine or manifest",
        "sets": {},
    }
    for name, (path, description) in sets.items():
        bare_mode = "bare_json" if name.startswith("jsonl") else "bare_parquet"
        runs: dict[str, list[dict]] = {"ingest": [], bare_mode: []}
        for repeat in range(args.repeat):
            order = ["ingest", bare_mode] if repeat % 2 == 0 else [bare_mode, "ingest"]
            for mode in order:
                result = _measure(mode, path)
                runs[mode].append(result)
                print(
                    f"  {name} {mode}: {result['rows']} rows in {result['seconds']:.2f}s, "
                    f"CPU {result['cpu_seconds']}s, max RSS {result['max_rss_mb']} MB",
                    flush=True,
                )
        summary = {}
        for mode, measured in runs.items():
            seconds = statistics.median(r["seconds"] for r in measured)
            rows = measured[0]["rows"]
            summary[mode] = {
                "rows": rows,
                "seconds_median": round(seconds, 3),
                "rows_per_s": round(rows / seconds),
                "max_rss_mb": max(r["max_rss_mb"] for r in measured),
                "warehouse_mb": measured[0]["warehouse_mb"],
                "runs_seconds": [round(r["seconds"], 3) for r in measured],
                "cpu_seconds": [r["cpu_seconds"] for r in measured],
                "threads": measured[0]["threads"],
                "memory_limit": measured[0]["memory_limit"],
                **{k: measured[0][k] for k in ("loaded", "quarantined", "duplicates") if k in measured[0]},
            }
        summary["ratio_ingest_to_bare"] = round(
            summary["ingest"]["rows_per_s"] / summary[bare_mode]["rows_per_s"], 3
        )
        summary["files"] = description
        results["sets"][name] = summary

    print()
    print(f"{'set':<14} {'mode':<13} {'rows':>11} {'seconds':>8} {'rows/s':>10} {'max RSS MB':>11}")
    for name, summary in results["sets"].items():
        for mode, row in summary.items():
            if isinstance(row, dict):
                print(
                    f"{name:<14} {mode:<13} {row['rows']:>11} {row['seconds_median']:>8.2f} "
                    f"{row['rows_per_s']:>10} {row['max_rss_mb']:>11}"
                )
        print(
            f"{name:<14} ingest / bare throughput: {summary['ratio_ingest_to_bare']:.0%}  ({summary['files']})"
        )
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(f"\nwritten to {RESULTS.relative_to(REPO_ROOT)}")
    return 0


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", default="large", help="generator scale (default: large)")
    parser.add_argument("--landing", help="benchmark an existing landing folder instead")
    parser.add_argument("--synthetic", type=int, help="write this many synthetic events instead")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--min-parquet-rows", type=int, default=500_000)
    parser.add_argument("--sets", default="jsonl,parquet", help="which to run: jsonl, parquet or both")
    parser.add_argument("--worker", choices=("ingest", "bare_json", "bare_parquet"), help=argparse.SUPPRESS)
    parser.add_argument("--home", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(_worker(args.worker, Path(args.landing), Path(args.home))))
        return 0
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    return _run(args)


if __name__ == "__main__":
    sys.exit(main())
