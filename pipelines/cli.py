"""The ``crm360`` command: one entry point for operators.

Subcommands stay thin: each parses its arguments and calls a library function, so the
same work is reachable from Dagster assets and tests without going through the CLI.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from warehouse.settings import REPO_ROOT, get_settings

SCALES = ("small", "demo", "large")


def _cmd_generate(args: argparse.Namespace) -> int:
    from pipelines.generator import generate

    settings = get_settings()
    out = Path(args.out) if args.out else settings.landing_dir
    truth = Path(args.truth) if args.truth else settings.ground_truth_dir
    summary = generate(scale=args.scale, seed=args.seed, out=out, truth_out=truth, overwrite=args.overwrite)
    print(json.dumps(summary, indent=2, default=str))
    return 0


def _dagster_env() -> dict[str, str]:
    settings = get_settings()
    dagster_home = settings.home / ".dagster"
    dagster_home.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(Path(__file__).with_name("dagster.yaml"), dagster_home / "dagster.yaml")
    return {**os.environ, "DAGSTER_HOME": str(dagster_home)}


def _cmd_build(args: argparse.Namespace) -> int:
    """Generate demo data if landing/ is empty, then materialize every asset."""
    settings = get_settings()
    landing_has_files = settings.landing_dir.exists() and any(settings.landing_dir.rglob("*.*"))
    if not landing_has_files:
        from pipelines.generator import generate

        print(f"landing/ is empty: generating the {args.scale} data set (seed {args.seed})", flush=True)
        generate(
            scale=args.scale, seed=args.seed, out=settings.landing_dir, truth_out=settings.ground_truth_dir
        )
    command = [
        str(Path(sys.executable).parent / "dagster"),
        "asset",
        "materialize",
        "--select",
        "*",
        "-m",
        "pipelines.definitions",
    ]
    return subprocess.call(command, env=_dagster_env(), cwd=REPO_ROOT)


def _cmd_serve(args: argparse.Namespace) -> int:
    """Start what users open, print where, stop everything on Ctrl-C."""
    bin_dir = Path(sys.executable).parent
    settings = get_settings()
    api_command = [
        str(bin_dir / "uvicorn"),
        "api.main:app",
        "--host",
        settings.api_host,
        "--port",
        str(settings.api_port),
        "--workers",
        str(settings.api_workers),
        "--timeout-keep-alive",
        str(settings.api_keepalive_seconds),
    ]
    api_url = f"http://{settings.api_host}:{settings.api_port}"
    dashboards_command = [
        str(bin_dir / "streamlit"),
        "run",
        str(REPO_ROOT / "dashboards" / "app.py"),
        "--server.headless",
        "true",
        "--server.address",
        settings.dashboard_host,
        "--server.port",
        str(settings.dashboard_port),
        "--browser.gatherUsageStats",
        "false",
        "--client.toolbarMode",
        "viewer",
    ]
    services = {
        "Dagster UI (data engineers)": (
            [str(bin_dir / "dagster"), "dev", "-m", "pipelines.definitions", "-h", args.host, "-p", "3000"],
            f"http://{args.host}:3000",
        ),
        "API (CRM apps; OpenAPI docs)": (api_command, f"{api_url}/docs"),
        "Dashboards (analysts; sign in with an API key)": (
            dashboards_command,
            f"http://{settings.dashboard_host}:{settings.dashboard_port}",
        ),
    }
    # Started in the background by a non-interactive shell (`make serve &`, nohup), this
    # process inherits SIGINT ignored, and so would the services: Ctrl-C or `kill -INT`
    # then did nothing and `stop` fell back to SIGKILL after 20 s. Python's own handler
    # is reset to the default in each service at exec.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    processes = []
    for name, (command, url) in services.items():
        processes.append(subprocess.Popen(command, env=_dagster_env(), cwd=REPO_ROOT, start_new_session=True))
        print(f"{name}: {url}", flush=True)
    print("Ctrl-C stops everything.", flush=True)

    def stop(*_: object) -> None:
        for process in processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGINT)
        deadline = time.monotonic() + 20
        for process in processes:
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)

    signal.signal(signal.SIGTERM, lambda *_: (stop(), sys.exit(0)))
    try:
        while all(process.poll() is None for process in processes):
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    stop()
    return 0


def _cmd_keys_create(args: argparse.Namespace) -> int:
    from warehouse.keys import create_key

    try:
        record, key = create_key(args.tenant, args.role, args.name)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(
        f"key id {record.key_id} (tenant {record.tenant_id}, role {record.role}); shown once, store it now:"
    )
    print(key)
    return 0


def _cmd_keys_revoke(args: argparse.Namespace) -> int:
    from warehouse.keys import revoke_key

    if not revoke_key(args.key_id):
        print(f"error: no active key {args.key_id}", file=sys.stderr)
        return 1
    print(f"revoked {args.key_id} (effective in every API worker within seconds)")
    return 0


def _cmd_keys_list(args: argparse.Namespace) -> int:
    from warehouse.keys import list_keys

    keys = list_keys(args.tenant)
    print(f"{'key_id':<14}{'tenant':<20}{'role':<11}{'created_at':<34}{'revoked_at':<34}name")
    for key in keys:
        print(
            f"{key.key_id:<14}{key.tenant_id:<20}{key.role:<11}{key.created_at:<34}{key.revoked_at or '-':<34}{key.name}"
        )
    return 0


def _registered_tenants(landing_dir: Path) -> set[str]:
    """tenant_ids of the tenant registry files, the ones the loader admits rows for."""
    import csv

    tenants = set()
    for path in sorted((landing_dir / "tenants").glob("*.csv")):
        with path.open(newline="", encoding="utf-8") as handle:
            tenants |= {row["tenant_id"].strip() for row in csv.DictReader(handle) if row.get("tenant_id")}
    return tenants


def _guess_identifier(value: str) -> str:
    if "@" in value:
        return "email"
    if value.startswith("cus_"):
        return "customer_id"
    if value.lstrip("+").replace(" ", "").replace("-", "").isdigit():
        return "phone"
    return "user_id"


def _cmd_erase(args: argparse.Namespace) -> int:
    """Record an erasure request (as the API does); with --now carry it out at once."""
    from warehouse.privacy_requests import create_erasure

    identifier, tenant = args.identifier.strip(), args.tenant.strip()
    if not identifier or not tenant:
        print("error: an erasure needs a non-empty identifier and --tenant", file=sys.stderr)
        return 2
    known = _registered_tenants(get_settings().landing_dir)
    if tenant not in known:
        print(
            f"error: unknown tenant {tenant!r}; the tenant registry (landing/tenants/) holds: "
            f"{', '.join(sorted(known)) or 'none'}",
            file=sys.stderr,
        )
        return 2
    kind = args.type or _guess_identifier(identifier)
    record = create_erasure(tenant, {kind: identifier}, "cli", args.reason)
    print(f"erasure request {record['request_id']} recorded ({kind}); status {record['status']}")
    if not args.now:
        print("the erasure sensor starts erasure_job; poll with the API or run again with --now")
        return 0
    from warehouse.erasure import process_erasure

    try:
        detail = process_erasure(record)
    except Exception as exc:
        print(f"error: erasure failed: {type(exc).__name__}", file=sys.stderr)
        return 1
    print(json.dumps(detail, indent=2))
    return 0


def _cmd_rotate_key(args: argparse.Namespace) -> int:
    """Re-encrypt the warehouse and every snapshot under a new key; the old key stops working."""
    from api.audit import AuditLog
    from warehouse.rotation import RotationError, rotate_key

    settings = get_settings()
    try:
        report = rotate_key(settings)
    except RotationError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    audit = AuditLog(settings)
    audit.record("*", "cli", "operator", "keys.rotate", "encryption_key", None, 200)
    audit.flush()
    print(
        f"re-encrypted the warehouse ({report.warehouse_bytes} bytes) and {len(report.snapshots)} snapshot(s) "
        f"in {report.seconds} s; {len(report.deleted)} old file(s) deleted; the old key opens nothing now"
    )
    return 0


def _cmd_identity_review_list(args: argparse.Namespace) -> int:
    """Print the probabilistic matches awaiting a reviewer."""
    from ml.identity.reviews import review_queue
    from warehouse.connection import warehouse

    with warehouse(read_only=True) as con:
        queue = review_queue(con, args.tenant, args.limit)
    if args.json:
        print(json.dumps(queue, indent=2, default=str))
        return 0
    if not queue:
        print("the review queue is empty")
    for item in queue:
        print(
            f"{item['pair_id']}  {item['tenant_id']}  p={item['match_probability']}  {item['status']}"
            f"{' (' + item['reason'] + ')' if item['reason'] else ''}\n"
            f"    {item['node_a']}  {item['record_a']}\n    {item['node_b']}  {item['record_b']}\n"
            f"    {item['evidence']}"
        )
    return 0


def _cmd_identity_review_decide(args: argparse.Namespace) -> int:
    """Record a reviewer's confirm or reject of a probabilistic match."""
    from ml.identity.reviews import record_decision
    from warehouse.connection import warehouse

    try:
        with warehouse() as con:
            done = record_decision(con, args.pair_id, args.decision, args.reviewer, args.note)
    except KeyError as exc:
        print(f"error: {exc.args[0]}", file=sys.stderr)
        return 2
    print(
        f"{done['decision']}ed {done['pair_id']} ({done['node_a']} ~ {done['node_b']}); applied at the next run"
    )
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="crm360", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    gen = sub.add_parser("generate", help="write demo data with ground truth")
    gen.add_argument("--scale", choices=SCALES, default="demo")
    gen.add_argument("--seed", type=int, default=42)
    gen.add_argument("--out", help="landing folder (default: settings' landing_dir)")
    gen.add_argument("--truth", help="ground-truth folder, never inside landing/ (default: settings')")
    gen.add_argument("--overwrite", action="store_true", help="replace data already in the landing folder")
    gen.set_defaults(func=_cmd_generate)

    build = sub.add_parser("build", help="generate demo data if absent and materialize every asset")
    build.add_argument("--scale", choices=SCALES, default="demo")
    build.add_argument("--seed", type=int, default=42)
    build.set_defaults(func=_cmd_build)

    from warehouse.keys import ROLES

    keys = sub.add_parser("keys", help="API keys: create (printed once), revoke, list").add_subparsers(
        dest="keys_command", required=True
    )
    create = keys.add_parser("create", help="create a key for one tenant and role; prints it once")
    create.add_argument("--tenant", required=True)
    create.add_argument("--role", required=True, choices=ROLES)
    create.add_argument("--name", default="", help="what the key is for, e.g. 'website write key'")
    create.set_defaults(func=_cmd_keys_create)
    revoke = keys.add_parser("revoke", help="revoke a key by its id")
    revoke.add_argument("key_id")
    revoke.set_defaults(func=_cmd_keys_revoke)
    listing = keys.add_parser("list", help="list keys (ids, tenants, roles; never secrets)")
    listing.add_argument("--tenant")
    listing.set_defaults(func=_cmd_keys_list)

    erase = sub.add_parser("erase", help="request the erasure of a person (GDPR art. 17) by any identifier")
    erase.add_argument(
        "identifier", help="an email, phone, user id, anonymous id, external id or customer id"
    )
    erase.add_argument("--tenant", required=True)
    erase.add_argument(
        "--type", choices=("email", "phone", "user_id", "anonymous_id", "external_id", "customer_id")
    )
    erase.add_argument("--reason")
    erase.add_argument(
        "--now", action="store_true", help="carry it out now instead of via the Dagster sensor"
    )
    erase.set_defaults(func=_cmd_erase)

    rotate = sub.add_parser("rotate-key", help="re-encrypt the warehouse and snapshots under a new key")
    rotate.set_defaults(func=_cmd_rotate_key)

    serve = sub.add_parser("serve", help="start the Dagster UI, the API and the dashboards")
    serve.add_argument("--host", default="127.0.0.1")
    serve.set_defaults(func=_cmd_serve)

    identity = sub.add_parser("identity", help="identity resolution: the probabilistic review queue")
    review = identity.add_subparsers(dest="identity_command", required=True).add_parser(
        "review", help="pairs between the review and accept thresholds, or blocked by over-merge protection"
    )
    review_sub = review.add_subparsers(dest="review_command", required=True)
    review_list = review_sub.add_parser("list", help="undecided pairs, most probable first")
    review_list.add_argument("--tenant")
    review_list.add_argument("--limit", type=int, default=50)
    review_list.add_argument("--json", action="store_true", help="print JSON instead of a table")
    review_list.set_defaults(func=_cmd_identity_review_list)
    for decision in ("confirm", "reject"):
        verb = review_sub.add_parser(
            decision, help=f"{decision} a pair; it overrides the model from the next run"
        )
        verb.add_argument("pair_id")
        verb.add_argument("--reviewer", default=getpass.getuser())
        verb.add_argument("--note")
        verb.set_defaults(func=_cmd_identity_review_decide, decision=decision)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
