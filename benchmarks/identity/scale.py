"""Wall time and peak memory of the probabilistic stage on the large data set's person records.

    python -m benchmarks.identity.scale [--records 1000000] [--workdir DIR]

The large data set's full dbt build does not finish on this machine (see
benchmarks/results/dbt_build_large.json), so the stage's inputs are built straight from
the large landing files (read-only): the CRM contacts and leads (latest version of each
record, the first ``--records`` in file order) shaped like the staging views, with
simplified normalisation (lower-cased names and emails, phone digits), and the
deterministic email / phone / userId / lead-conversion edges with the role-mailbox and
shared-identifier guards. They go into a scratch, unencrypted DuckDB file under the work
dir (synthetic data, benchmark only).

Phases, each in its own process so each has its own peak memory (ru_maxrss):
1. full: train the model by EM, score every record, decide;
2. incremental: add 1% new records (copies of existing ones under new ids, created now,
   without email or phone, a letter of the first name dropped in every other one:
   duplicates only the probabilistic stage can find) and run again: only their features
   are computed, and only they are scored.
Writes benchmarks/results/identity_scale.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parent.parent / "results"
ROOT = Path(__file__).resolve().parent.parent.parent
LANDING = ROOT / "benchmarks" / "work" / "landing-large"
INCREMENT = 0.01


def _connect(db: Path):
    import duckdb

    con = duckdb.connect()
    # the machine is shared: spill to disk rather than take most of its memory
    con.execute("set memory_limit = '6GB'")
    con.execute(f"attach '{db}' as wh")
    con.execute("use wh")
    return con


def build_inputs(db: Path, records: int) -> dict[str, int]:
    db.unlink(missing_ok=True)
    con = _connect(db)
    crm = LANDING / "crm"
    seeds = ROOT / "dbt_project" / "seeds"
    con.execute("create schema staging; create schema intermediate; create schema reference")
    con.execute(
        f"create table reference.role_email_local_parts as select * from read_csv('{seeds}/role_email_local_parts.csv')"
    )
    phone = "nullif('+' || regexp_replace(coalesce(phone, ''), '[^0-9]', '', 'g'), '+')"
    con.execute(
        f"""create table staging.stg_crm__contacts as
        select tenant_id, source_system, record_id as contact_id, account_id,
            lower(strip_accents(trim(first_name))) as first_name_normalized,
            lower(strip_accents(trim(last_name))) as last_name_normalized,
            lower(trim(email)) as email_normalized, {phone} as phone_e164,
            street, city, postal_code, try_cast(date_of_birth as date) as date_of_birth,
            nullif(trim(user_id), '') as user_id, nullif(trim(job_title), '') as job_title,
            try_cast(created_at as timestamptz) at time zone 'UTC' as created_at, now()::timestamp as loaded_at
        from read_csv('{crm}/contacts/*.csv', all_varchar = true)
        qualify row_number() over (partition by tenant_id, source_system, record_id order by updated_at desc) = 1
        limit {int(records * 0.8)}"""
    )
    contacts = con.execute("select count(*) from staging.stg_crm__contacts").fetchone()[0]
    con.execute(
        f"""create table staging.stg_crm__leads as
        select tenant_id, source_system, record_id as lead_id,
            lower(strip_accents(trim(first_name))) as first_name_normalized,
            lower(strip_accents(trim(last_name))) as last_name_normalized,
            lower(trim(email)) as email_normalized, {phone} as phone_e164, company,
            nullif(converted_contact_id, '') as converted_contact_id, nullif(trim(job_title), '') as job_title,
            try_cast(created_at as timestamptz) at time zone 'UTC' as created_at, now()::timestamp as loaded_at
        from read_csv('{crm}/leads/*.csv', all_varchar = true)
        qualify row_number() over (partition by tenant_id, source_system, record_id order by updated_at desc) = 1
        limit {records - contacts}"""
    )
    con.execute(
        f"""create table staging.stg_crm__accounts as
        select tenant_id, source_system, record_id as account_id, name as account_name
        from read_csv('{crm}/accounts/*.csv', all_varchar = true)
        qualify row_number() over (partition by tenant_id, source_system, record_id order by updated_at desc) = 1"""
    )
    build_edges(con)
    counts = {
        "contacts": contacts,
        "leads": con.execute("select count(*) from staging.stg_crm__leads").fetchone()[0],
        "deterministic_edges": con.execute(
            "select count(*) from intermediate.int_identity_edges_collected"
        ).fetchone()[0],
    }
    con.close()
    return counts


def build_edges(con) -> None:
    con.execute(
        """create or replace table intermediate.int_identity_edges_collected as
        with links as (
            select tenant_id, 'external_id:' || source_system || ':contacts:' || contact_id as a,
                unnest(['email:' || email_normalized, 'phone:' || phone_e164, 'user_id:' || user_id]) as b
            from staging.stg_crm__contacts
            union all
            select tenant_id, 'external_id:' || source_system || ':leads:' || lead_id,
                unnest(['email:' || email_normalized, 'phone:' || phone_e164,
                    'external_id:' || source_system || ':contacts:' || converted_contact_id])
            from staging.stg_crm__leads
        )
        select distinct tenant_id, least(a, b) as node_a, greatest(a, b) as node_b from links where b is not null"""
    )
    con.execute(
        """create or replace table intermediate.int_identity_identifiers_blocked as
        select tenant_id, node_key from (
            select tenant_id, node_b as node_key, count(*) as n from intermediate.int_identity_edges_collected
            where node_b not like 'external_id:%' group by all
        ) where n > 8
        union
        select distinct tenant_id, node_b from intermediate.int_identity_edges_collected
        where node_b like 'email:%' and split_part(substr(node_b, 7), '@', 1) in
            (select local_part from reference.role_email_local_parts)"""
    )


def add_increment(db: Path) -> int:
    con = _connect(db)
    added = con.execute(
        f"""insert into staging.stg_crm__contacts
        select * replace (
            contact_id || '-inc' as contact_id,
            case when hash(contact_id) % 2 = 0 then first_name_normalized
                else substr(first_name_normalized, 1, 2) || substr(first_name_normalized, 4) end
                as first_name_normalized,
            null as email_normalized, null as phone_e164, null as user_id, now()::timestamp as created_at,
            now()::timestamp as loaded_at)
        from staging.stg_crm__contacts using sample {INCREMENT * 100}% (bernoulli, 7)"""
    ).fetchone()[0]
    build_edges(con)
    con.close()
    return int(added)


def run_phase(db: Path, model_dir: Path) -> dict:
    from ml.identity.stage import StageConfig, run_probabilistic_stage

    con = _connect(db)
    started = time.perf_counter()
    result = run_probabilistic_stage(con, StageConfig(model_dir=model_dir))
    seconds = time.perf_counter() - started
    con.close()
    return {
        "seconds": round(seconds, 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "mode": result.mode,
        "records": result.records,
        "records_featurized": result.records_featurized,
        "records_profiled": result.records_profiled,
        "records_scored": result.records_scored,
        "pairs_scored": result.pairs_scored,
        "statuses": result.statuses,
        "step_seconds": result.seconds,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--workdir", type=Path, default=ROOT / "benchmarks" / "work" / "identity-scale")
    parser.add_argument("--phase", choices=("full", "incremental"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    db, model_dir = args.workdir / "scale.duckdb", args.workdir / "models"
    if args.phase:
        print(json.dumps(run_phase(db, model_dir)))
        return 0

    args.workdir.mkdir(parents=True, exist_ok=True)
    result: dict = {
        "benchmark": "identity_scale",
        "machine": f"{platform.machine()} {platform.system()}, {os.cpu_count()} cpus (shared)",
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
    }
    started = time.perf_counter()
    result["inputs"] = build_inputs(db, args.records)
    result["inputs"]["seconds"] = round(time.perf_counter() - started, 1)
    print(json.dumps(result["inputs"]), flush=True)

    def phase(name: str) -> dict:
        out = subprocess.run(
            [sys.executable, "-m", "benchmarks.identity.scale", "--phase", name, "--workdir", str(args.workdir)],
            cwd=ROOT, capture_output=True, text=True, check=False,
        )  # fmt: skip
        if out.returncode != 0:
            raise RuntimeError(out.stderr[-4000:])
        return json.loads(out.stdout.strip().splitlines()[-1])

    result["full"] = phase("full")
    print(json.dumps(result["full"]), flush=True)
    result["increment_records"] = add_increment(db)
    result["incremental"] = phase("incremental")
    print(json.dumps(result["incremental"]), flush=True)
    result["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    result["measured_at"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "identity_scale.json").write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
