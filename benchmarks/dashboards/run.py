"""Dashboard page render times in headless Chromium, at demo (or large) scale.

    python -m benchmarks.dashboards.run --scale demo       # about 2 minutes
    python -m benchmarks.dashboards.run --scale large

Data: the warehouse the dbt benchmark built (``python -m benchmarks.dbt_build --scale
<scale>`` leaves it in benchmarks/work/dbt-<scale>/) is copied once into
benchmarks/work/dashboards-<scale>/, the operations marts (source_freshness,
quarantine_reasons) are built on the copy if it lacks them, and a serving snapshot is
published there, as the pipeline's publish step does. ``--home DIR`` uses DIR's
published snapshot instead (e.g. the repository after ``make build``).

Measure: start ``streamlit run dashboards/app.py`` (as ``crm360 serve`` does), sign in
with an admin key of the biggest tenant, click each page in the sidebar and time from
the click until Streamlit has finished the run (no running status, no stale
elements). The first visit of each page is its first load (cold query cache); then
every page is visited ``--visits`` more times: those are the figures the target (< 2 s
per page after the first load) applies to. Results: benchmarks/results/dashboards.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import time
from datetime import UTC, datetime
from pathlib import Path

from benchmarks.dashboards.browser import browser_page, open_page, running_app, sign_in, wait_until_idle
from warehouse.settings import REPO_ROOT

RESULTS = REPO_ROOT / "benchmarks" / "results" / "dashboards.json"
TARGET_SECONDS = 2.0
SEARCH = "Customer 360: search and open a profile"


def search_customer(page, email: str, settle: float = 0.4) -> float:
    """Type an e-mail into Customer 360's search; seconds until the profile and its tabs are shown."""
    started = time.perf_counter()
    box = page.get_by_role("textbox", name="Search")
    box.fill(email)
    box.press("Enter")
    page.get_by_role("tab", name="Timeline").wait_for()
    wait_until_idle(page, settle=settle)
    return max(0.0, time.perf_counter() - started - settle)


def prepare_home(scale: str) -> Path:
    """benchmarks/work/dashboards-<scale>/ with a published snapshot of the dbt benchmark's warehouse."""
    home = REPO_ROOT / "benchmarks" / "work" / f"dashboards-{scale}"
    source = REPO_ROOT / "benchmarks" / "work" / f"dbt-{scale}" / "warehouse" / "data"
    data = home / "warehouse" / "data"
    if (data / "snapshots" / "CURRENT").exists():
        return home
    if not (source / "crm360.duckdb").exists():
        raise SystemExit(
            f"no {scale} warehouse in {source}: run `python -m benchmarks.dbt_build --scale {scale}` first"
        )
    data.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source / "crm360.duckdb", data / "crm360.duckdb")
    shutil.copyfile(source / "crm360.key", data / "crm360.key")
    os.chmod(data / "crm360.key", 0o600)
    os.environ["CRM360_HOME"] = str(home)
    from pipelines.dbt.cli import run_dbt
    from warehouse.connection import warehouse
    from warehouse.settings import get_settings
    from warehouse.snapshots import publish_from_warehouse

    settings = get_settings()
    with warehouse(read_only=True, settings=settings) as con:
        have = {
            r[0]
            for r in con.execute(
                "select table_name from information_schema.tables where table_schema = 'marts'"
            ).fetchall()
        }
    if not {"source_freshness", "quarantine_reasons"} <= have:
        done = run_dbt(
            ["run", "-s", "source_freshness", "quarantine_reasons"],
            home=home,
            target_path=home / "dbt_target",
            log_path=home / "dbt_logs",
            capture=True,
        )
        if done.returncode != 0:
            raise SystemExit(done.stdout[-3000:])
    started = time.perf_counter()
    info = publish_from_warehouse(settings)
    print(f"published snapshot {info.version} in {time.perf_counter() - started:.1f}s", flush=True)
    return home


def biggest_tenant(home: Path) -> tuple[str, int]:
    os.environ["CRM360_HOME"] = str(home)
    from warehouse.settings import get_settings
    from warehouse.snapshots import SnapshotReader

    con = SnapshotReader(get_settings()).connection()
    try:
        tenant, customers = con.execute(
            "select tenant_id, count(*) from customer_360 group by 1 order by 2 desc limit 1"
        ).fetchone()
        rows = dict(con.execute("select table_name, estimated_size from duckdb_tables()").fetchall())
        # A customer with a long timeline: the heaviest profile to open.
        email = con.execute(
            "select c.email from customer_360 c join (select customer_id, count(*) n from customer_timeline "
            "where tenant_id = ? group by 1 order by n desc limit 1) t using (customer_id) where c.tenant_id = ?",
            [tenant, tenant],
        ).fetchone()[0]
    finally:
        con.close()
    print(
        f"tenant {tenant}: {customers:,} customers; timeline rows {rows.get('customer_timeline', 0):,}",
        flush=True,
    )
    return tenant, customers, email


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", default="demo", choices=("small", "demo", "large"))
    parser.add_argument("--home", help="a CRM360_HOME with a published snapshot (skips preparing one)")
    parser.add_argument("--visits", type=int, default=3, help="warm visits per page after the first")
    args = parser.parse_args()

    home = Path(args.home).resolve() if args.home else prepare_home(args.scale)
    tenant, customers, email = biggest_tenant(home)
    from warehouse.keys import create_key
    from warehouse.settings import get_settings

    key = create_key(tenant, "admin", "dashboard benchmark", get_settings())[1]
    from dashboards.app import PAGES

    titles = [title for _, title, _, _ in PAGES]
    first: dict[str, float] = {}
    warm: dict[str, list[float]] = {t: [] for t in [*titles, SEARCH]}
    load_start = os.getloadavg()
    log = home / "streamlit-benchmark.log"
    with running_app({"CRM360_HOME": str(home)}, log=log) as url, browser_page() as page:
        started = time.perf_counter()
        sign_in(page, url, key)
        sign_in_seconds = time.perf_counter() - started
        for round_number in range(args.visits + 1):
            for title in titles:
                visit = open_page(page, title)
                if visit.errors:
                    raise SystemExit(f"{title}: {visit.errors}")
                if round_number == 0:
                    first[title] = visit.seconds
                else:
                    warm[title].append(visit.seconds)
                print(f"round {round_number} {title:<16} {visit.seconds:6.2f}s", flush=True)
                if title == "Customer 360":
                    seconds = search_customer(page, email if round_number % 2 == 0 else email.upper())
                    if round_number == 0:
                        first[SEARCH] = seconds
                    else:
                        warm[SEARCH].append(seconds)
                    print(f"round {round_number} {SEARCH:<16} {seconds:6.2f}s", flush=True)
    pages = {
        title: {
            "first_load_s": round(first[title], 3),
            "after_first_median_s": round(statistics.median(warm[title]), 3),
            "after_first_max_s": round(max(warm[title]), 3),
        }
        for title in [*titles, SEARCH]
    }
    worst = max(p["after_first_max_s"] for p in pages.values())
    result = {
        "benchmark": "dashboards",
        "scale": "custom" if args.home else args.scale,
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
            "load_average_at_start": [round(x, 2) for x in load_start],
            "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
        },
        "ran_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "tenant": tenant,
        "tenant_customers": customers,
        "browser": "Debian chromium, headless, 1440x1000, via playwright",
        "method": "click in the sidebar -> Streamlit run finished (no running status or stale elements)",
        "sign_in_to_overview_s": round(sign_in_seconds, 3),
        "warm_visits_per_page": args.visits,
        "pages": pages,
        "worst_after_first_s": worst,
        "target_s": TARGET_SECONDS,
        "target_met": worst < TARGET_SECONDS,
    }
    existing = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    existing[result["scale"]] = result
    RESULTS.write_text(json.dumps(existing, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
