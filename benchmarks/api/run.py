"""API benchmarks (issue 6), loopback only, each scenario bounded in time.

1. ``idle_clients``: 5,000 keep-alive connections, each waiting a random time between
   requests so that about 2,500 requests/s are offered, against
   GET /v1/customers/{id}/scores with random existing ids, for 60 s, while a new
   snapshot is published in the middle. Target: 0 errors, p99 under 50 ms.
2. ``saturation``: 64 connections, no waiting, the API and a minimal app (prebuilt
   bytes from a dict, same server flags) side by side. Target: the API reaches at
   least 50% of the minimal app's requests/s.
3. ``events``: 50 concurrent senders posting Segment batches of 100 events to
   /v1/batch; events/s accepted durably (fsynced in landing/ before the 200).

    python -m benchmarks.api.run                 # all three, about 2.5 minutes
    python -m benchmarks.api.run --quick         # shorter runs, for a smoke test

Data: a synthetic serving snapshot (2 tenants x 25,000 customers with scores) in
benchmarks/work/api/, unless ``--home`` names a CRM360_HOME whose published snapshot
should be used (e.g. after ``make build``). Results: benchmarks/results/api.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

from warehouse.settings import REPO_ROOT

WORK = REPO_ROOT / "benchmarks" / "work" / "api"
RESULTS = REPO_ROOT / "benchmarks" / "results" / "api.json"
SYNTHETIC = {"acme": 25_000, "globex": 25_000}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _env(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CRM360_")}
    env.update(
        CRM360_HOME=str(home),
        CRM360_API_RATE_LIMIT="1000000",  # one benchmark key stands for thousands of clients
        CRM360_API_RATE_BURST="1000000",
        **extra,
    )
    return env


class Server:
    """uvicorn on loopback, started the way ``crm360 serve`` starts the API."""

    def __init__(self, app: str, home: Path, workers: int = 2):
        self.port = _free_port()
        command = [
            sys.executable,
            "-m",
            "uvicorn",
            app,
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--workers",
            str(workers),
            "--timeout-keep-alive",
            "75",
            "--backlog",
            "8192",
            "--no-access-log",
            "--log-level",
            "warning",
        ]
        self.process = subprocess.Popen(command, env=_env(home), cwd=REPO_ROOT, start_new_session=True)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
                    sock.sendall(b"GET /v1/health HTTP/1.1\r\nHost: x\r\n\r\n")
                    if sock.recv(64).startswith(b"HTTP/1.1"):
                        break
            except OSError:
                time.sleep(0.3)
        else:
            self.stop()
            raise RuntimeError(f"{app} did not start")
        time.sleep(3 if app.startswith("api.") else 1)  # every worker has loaded the snapshot

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)


def _loadgen(port: int, *args: str) -> dict:
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks.api.loadgen", "--port", str(port), *args],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def prepare(home: Path | None) -> tuple[Path, str, str, Path]:
    """A CRM360_HOME with a published snapshot, an app key, an ingest key and the id file."""
    from warehouse.keys import create_key
    from warehouse.settings import get_settings

    if home is None:
        home = WORK / "home"
        os.environ["CRM360_HOME"] = str(home)
        settings = get_settings()
        from tests.serving_fixtures import publish_fixture_snapshot

        if not settings.snapshots_dir.exists():
            publish_fixture_snapshot(settings, customers=SYNTHETIC)
    else:
        os.environ["CRM360_HOME"] = str(home)
        settings = get_settings()
    from warehouse.connection import load_key
    from warehouse.snapshots import open_snapshot, read_pointer

    pointer = read_pointer(settings.snapshots_dir)
    if pointer is None:
        raise SystemExit(f"no published snapshot under {settings.snapshots_dir}")
    con = open_snapshot(pointer.path(settings.snapshots_dir), load_key(settings))
    try:
        tenant = con.execute(
            "select tenant_id from customer_360 group by 1 order by count(*) desc limit 1"
        ).fetchone()[0]
        ids = [
            row[0]
            for row in con.execute(
                "select customer_id from customer_360 where tenant_id = ? order by hash(customer_id) limit 20000",
                [tenant],
            ).fetchall()
        ]
    finally:
        con.close()
    WORK.mkdir(parents=True, exist_ok=True)
    ids_file = WORK / "ids.txt"
    ids_file.write_text("\n".join(ids) + "\n")
    _, app_key = create_key(tenant, "app", "benchmark", settings)
    _, ingest_key = create_key(tenant, "ingest", "benchmark", settings)
    return home, app_key, ingest_key, ids_file


def republish(home: Path) -> float:
    """What the pipeline's publish asset does: a new snapshot from the warehouse."""
    os.environ["CRM360_HOME"] = str(home)
    from warehouse.settings import get_settings
    from warehouse.snapshots import publish_from_warehouse

    started = time.perf_counter()
    publish_from_warehouse(get_settings())
    return round(time.perf_counter() - started, 2)


def idle_clients(home: Path, key: str, ids: Path, duration: float, connections: int, rate: float) -> dict:
    server = Server("api.main:app", home)
    try:
        published: dict[str, float] = {}

        def publish_midway() -> None:
            time.sleep(connections / 2000 + duration / 2)  # after the ramp-up, half-way through
            published["publish_seconds"] = republish(home)
            published["published_at_s"] = round(duration / 2, 1)

        thread = threading.Thread(target=publish_midway)
        thread.start()
        result = _loadgen(
            server.port,
            "--connections", str(connections),
            "--rate", str(rate),
            "--duration", str(duration),
            "--paths", str(ids),
            "--prefix", "/v1/customers/",
            "--suffix", "/scores",
            "--key", key,
        )  # fmt: skip
        thread.join()
        return {**result, **published}
    finally:
        server.stop()


def saturation(home: Path, key: str, ids: Path, duration: float) -> dict:
    runs = {}
    for name, app in (("api", "api.main:app"), ("minimal_app", "benchmarks.api.minimal_app:app")):
        server = Server(app, home)
        try:
            runs[name] = _loadgen(
                server.port,
                "--connections", "64",
                "--duration", str(duration),
                "--paths", str(ids),
                "--prefix", "/v1/customers/",
                "--suffix", "/scores",
                "--key", key,
            )  # fmt: skip
        finally:
            server.stop()
    runs["api_share_of_minimal"] = round(
        runs["api"]["requests_per_s"] / runs["minimal_app"]["requests_per_s"], 3
    )
    return runs


def events(home: Path, key: str, duration: float) -> dict:
    batch = {
        "batch": [
            {
                "type": "track",
                "event": "Page Scrolled",
                "anonymousId": f"bench-anon-{i}",
                "properties": {"depth": i, "path": "/pricing"},
                "context": {"library": {"name": "benchmark", "version": "1"}},
                "timestamp": "2025-01-01T00:00:00Z",
            }
            for i in range(100)
        ]
    }
    body = WORK / "batch.json"
    body.write_text(json.dumps(batch))
    landing = home / "landing" / "events"
    shutil.rmtree(landing, ignore_errors=True)  # only this run's files: counted below, disk kept bounded
    server = Server("api.main:app", home)
    try:
        result = _loadgen(
            server.port, "--connections", "50", "--duration", str(duration), "--path", "/v1/batch",
            "--body", str(body), "--key", key,
        )  # fmt: skip
    finally:
        server.stop()
    files = sum(1 for _ in landing.rglob("*.jsonl")) if landing.exists() else 0
    lines = (
        sum(path.read_bytes().count(b"\n") for path in landing.rglob("*.jsonl")) if landing.exists() else 0
    )
    return {
        **result,
        "batch_size": 100,
        "batch_bytes": body.stat().st_size,
        "events_per_s": round(result["requests_per_s"] * 100, 1),
        "landing_files": files,
        "events_landed": lines,
    }


def _brief(result: dict) -> dict:
    """A result without its per-second series, for the console."""
    return {
        k: _brief(v) if isinstance(v, dict) else v
        for k, v in result.items()
        if k not in ("per_second", "worst_ms_per_second")
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--home", type=Path, help="CRM360_HOME with a published snapshot (default: synthetic)"
    )
    parser.add_argument(
        "--quick", action="store_true", help="short runs: a smoke test of the benchmark itself"
    )
    parser.add_argument("--only", choices=("idle_clients", "saturation", "events"), action="append")
    args = parser.parse_args(argv)
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # 5,000 connections each side
    home, app_key, ingest_key, ids = prepare(args.home)
    only = set(args.only or ("idle_clients", "saturation", "events"))
    quick = args.quick
    results: dict = {
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
            # Other work on the machine skews every figure: say how busy it was.
            "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        },
        "ran_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "server": "uvicorn, 2 workers, --timeout-keep-alive 75, httptools + uvloop",
        "data": "synthetic, 2 tenants x 25,000 customers" if args.home is None else str(args.home),
    }
    if "idle_clients" in only:
        conns, rate, duration = (500, 250, 10) if quick else (5000, 2500, 60)
        results["idle_clients"] = idle_clients(home, app_key, ids, duration, conns, rate)
        print(
            json.dumps(
                {"idle_clients": {k: v for k, v in results["idle_clients"].items() if k != "per_second"}}
            )
        )
    if "saturation" in only:
        results["saturation"] = saturation(home, app_key, ids, 5 if quick else 15)
        print(
            json.dumps(
                {
                    "saturation": {
                        k: v if not isinstance(v, dict) else {x: y for x, y in v.items() if x != "per_second"}
                        for k, v in results["saturation"].items()
                    }
                }
            )
        )
    if "events" in only:
        results["events"] = events(home, ingest_key, 5 if quick else 15)
        print(json.dumps({"events": _brief(results["events"])}))
    results["machine"]["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    if not quick:
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        previous = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
        RESULTS.write_text(json.dumps({**previous, **results}, indent=2) + "\n")
        print(f"written to {RESULTS.relative_to(REPO_ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
