"""Time to complete one erasure at a scale, and a full scan afterwards.

    python -m benchmarks.privacy.erasure --scale demo [--workdir DIR] [--source DIR]

Copies a built warehouse and its landing folder (``--source``, by default
benchmarks/work/dbt-<scale>, made by ``python -m benchmarks.dbt_build --scale <scale>``;
never written to) into a scratch
work dir, publishes a snapshot, picks a customer with email and phone who is a
Customer, then times ``crm360 erase`` end to end (resolve, suppress, landing rewrite,
deletes, verification, compaction, new snapshot, old snapshots deleted). Afterwards it
scans every table of the warehouse and of every snapshot by SQL, and every landing,
warehouse and snapshot file byte for byte, for each of the subject's identifiers.
Writes benchmarks/results/privacy.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parent.parent / "results"
WORK = Path(__file__).resolve().parent.parent / "work"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", default="demo")
    parser.add_argument("--workdir", default="/tmp/crm360-privacy-bench")
    parser.add_argument("--source", type=Path, default=None)
    args = parser.parse_args()
    source = args.source or WORK / f"dbt-{args.scale}"
    work = Path(args.workdir) / args.scale
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    started = time.perf_counter()
    shutil.copytree(source / "landing", work / "landing", symlinks=False)
    shutil.copytree(source / "warehouse", work / "warehouse")
    print(f"copied in {time.perf_counter() - started:.0f}s", flush=True)
    os.environ["CRM360_HOME"] = str(work)
    for name in ("CRM360_ENCRYPTION_KEY", "CRM360_WAREHOUSE", "CRM360_DATA_DIR", "CRM360_KEY_FILE"):
        os.environ.pop(name, None)

    from warehouse.connection import warehouse
    from warehouse.erasure import count_remaining, file_hits, landing_hits, resolve_subject
    from warehouse.privacy_requests import create_erasure, get_erasure
    from warehouse.settings import get_settings
    from warehouse.snapshots import list_snapshots, open_snapshot, publish_from_warehouse

    settings = get_settings()
    publish_from_warehouse(settings, threads=None)
    with warehouse(read_only=True) as con:
        tenant, email, _phone = con.execute(
            "select tenant_id, email, phone from marts.customer_360 where email is not null and phone is not null "
            "and lifecycle_stage = 'Customer' order by source_records desc, customer_id limit 1"
        ).fetchone()
        before = resolve_subject(con, tenant, {"email": email})
        before_rows = count_remaining(con, before)
    print(
        f"subject: {len(before.customer_ids)} customer id(s), {len(before.node_keys)} nodes; "
        f"found in {len(before_rows)} tables ({sum(before_rows.values())} rows)",
        flush=True,
    )

    request = create_erasure(tenant, {"email": email}, "benchmark", "benchmark")
    started = time.perf_counter()
    from warehouse.erasure import process_erasure

    detail = process_erasure(request)
    seconds = time.perf_counter() - started
    print(f"erasure completed in {seconds:.1f}s", flush=True)

    started = time.perf_counter()
    with warehouse(read_only=True) as con:
        left_tables = count_remaining(con, before)
    left_snapshots = {}
    for _, path in list_snapshots(settings.snapshots_dir):
        snap = open_snapshot(path)
        try:
            left = count_remaining(snap, before, alias="snap")
        finally:
            snap.close()
        if left:
            left_snapshots[path.name] = left
    left_landing = landing_hits(settings.landing_dir, before)
    files = [settings.warehouse_path] + [p for _, p in list_snapshots(settings.snapshots_dir)]
    left_files = file_hits(files, before)
    scan_seconds = time.perf_counter() - started
    result = {
        "benchmark": "privacy.erasure",
        "scale": args.scale,
        "machine": f"{platform.machine()} {platform.system()}, {os.cpu_count()} cpus (shared with other jobs)",
        "erasure_seconds": round(seconds, 2),
        "timings": detail["timings"],
        "status": get_erasure(tenant, request["request_id"])["status"],
        "subject": {
            "customer_ids": len(before.customer_ids),
            "nodes": len(before.node_keys),
            "tables_holding_before": len(before_rows),
            "rows_before": sum(before_rows.values()),
        },
        "deleted_rows": detail["rows_deleted"],
        "deleted_per_table": detail["deleted"],
        "landing_files_rewritten": detail["landing_files_rewritten"],
        "landing_rows_removed": detail["landing_rows_removed"],
        "snapshots_deleted": detail["snapshots_deleted"],
        "full_scan_seconds": round(scan_seconds, 2),
        "after": {
            "warehouse_tables_with_subject": left_tables,
            "snapshot_tables_with_subject": left_snapshots,
            "landing_files_with_subject": left_landing,
            "encrypted_files_with_subject_bytes": left_files,
        },
        "verified_at": detail["verified_at"],
    }
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / "privacy.json"
    existing = json.loads(out.read_text()) if out.exists() else {}
    existing[args.scale] = result
    out.write_text(json.dumps(existing, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
