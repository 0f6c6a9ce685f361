"""Throughput and peak memory of the demo-data generator at one scale.

    python -m benchmarks.generator [--scale large] [--seed 42] [--people N] [--keep]

Generates into benchmarks/work/generator/ (git-ignored; deleted afterwards unless
--keep), then prints and writes benchmarks/results/generator.json: CRM rows/s,
events/s, peak RSS (resource.getrusage: the process's high-water mark), CPU time and the
time per stage. The machine is shared, so the load average before and after is
recorded too: wall time on a busy machine says little without it.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
WORK = ROOT / "benchmarks" / "work" / "generator"
if str(ROOT) not in sys.path:  # also runnable as a plain script
    sys.path.insert(0, str(ROOT))


def _size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def run(scale: str, seed: int, people: int | None, keep: bool) -> dict:
    from pipelines.generator import generate

    shutil.rmtree(WORK, ignore_errors=True)
    load_before = os.getloadavg()
    cpu_before = resource.getrusage(resource.RUSAGE_SELF)
    started = time.perf_counter()
    summary = generate(scale, seed, WORK / "landing", WORK / "ground_truth", people=people)
    seconds = time.perf_counter() - started
    usage = resource.getrusage(resource.RUSAGE_SELF)
    crm_rows = sum(summary["records"].values())
    events = summary["events"]
    result = {
        "benchmark": "generator",
        "measured_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "scale": summary["scale"],
        "seed": seed,
        "people": summary["people"],
        "blocks": summary["blocks"],
        "crm_rows": crm_rows,
        "events": events,
        "bad_rows": sum(summary["bad_rows"].values()),
        "files": len(summary["files"]),
        "seconds": round(seconds, 1),
        "crm_rows_per_second": round(crm_rows / seconds),
        "events_per_second": round(events / seconds),
        "rows_and_events_per_second": round((crm_rows + events) / seconds),
        "cpu_seconds": round(
            (usage.ru_utime - cpu_before.ru_utime) + (usage.ru_stime - cpu_before.ru_stime), 1
        ),
        "peak_rss_mb": round(usage.ru_maxrss / 1024),  # Linux reports KiB
        "landing_mb": round(_size(WORK / "landing") / 2**20),
        "ground_truth_mb": round(_size(WORK / "ground_truth") / 2**20),
        "stage_seconds": summary["stage_seconds"],
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
            "load_average_before": [round(x, 2) for x in load_before],
            "load_average_after": [round(x, 2) for x in os.getloadavg()],
        },
    }
    if not keep:
        shutil.rmtree(WORK, ignore_errors=True)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", choices=("small", "demo", "large"), default="large")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--people", type=int, help="override the scale's number of people")
    parser.add_argument("--keep", action="store_true", help="keep the generated files in benchmarks/work/")
    args = parser.parse_args(argv)
    result = run(args.scale, args.seed, args.people, args.keep)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "generator.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
