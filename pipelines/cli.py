"""The ``crm360`` command: one entry point for operators.

Subcommands stay thin: each parses its arguments and calls a library function, so the
same work is reachable from Dagster assets and tests without going through the CLI.
"""

from __future__ import annotations

import argparse
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
    services = {
        "Dagster UI (data engineers)": (
            [str(bin_dir / "dagster"), "dev", "-m", "pipelines.definitions", "-h", args.host, "-p", "3000"],
            f"http://{args.host}:3000",
        ),
        "API (CRM apps; OpenAPI docs)": (api_command, f"{api_url}/docs"),
    }
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

    serve = sub.add_parser("serve", help="start the Dagster UI, the API and the dashboards")
    serve.add_argument("--host", default="127.0.0.1")
    serve.set_defaults(func=_cmd_serve)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
