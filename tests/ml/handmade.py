"""A small, random but reproducible set of the upstream tables the ML feature marts read.

Written straight into the schemas dbt would build them in, so that `dbt run -s
path:models/ml` can rebuild the feature marts alone, in seconds, and a test can change
what happened after the cut-off and rebuild again.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import duckdb
import numpy as np
import polars as pl

AS_OF = datetime(2026, 10, 31)
CUTOFF = datetime(2026, 8, 2)
START = CUTOFF - timedelta(days=400)
TENANT = "acme"
TENANTS = ("acme", "globex")
PEOPLE = 240


def _pick(rng: np.random.Generator, options: list, n: int) -> pl.Series:
    return pl.Series([options[i] for i in rng.integers(0, len(options), size=n)], dtype=pl.String)


def _times(rng: np.random.Generator, n: int, start: datetime, end: datetime) -> list[datetime]:
    span = (end - start).total_seconds()
    return [start + timedelta(seconds=float(s)) for s in rng.uniform(0, span, size=n)]


def events(
    rng: np.random.Generator, n: int, start: datetime, end: datetime, tenant: str = TENANT
) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "tenant_id": tenant,
            "customer_id": [f"cus_{i}" for i in rng.integers(0, PEOPLE, size=n)],
            "occurred_at": _times(rng, n, start, end),
        }
    )


def touches(
    rng: np.random.Generator, n: int, start: datetime, end: datetime, tenant: str = TENANT
) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "tenant_id": tenant,
            "customer_id": [f"cus_{i}" for i in rng.integers(0, PEOPLE, size=n)],
            "touch_type": rng.choice(["email_opened", "email_clicked", "member_added", "responded"], size=n),
            "touched_at": _times(rng, n, start, end),
        }
    )


def tickets(
    rng: np.random.Generator, n: int, start: datetime, end: datetime, prefix: str, tenant: str = TENANT
) -> pl.DataFrame:
    created = _times(rng, n, start, end)
    response = [
        c + timedelta(hours=float(h)) for c, h in zip(created, rng.exponential(10, size=n), strict=True)
    ]
    resolved = [
        c + timedelta(hours=float(h)) for c, h in zip(created, rng.exponential(60, size=n), strict=True)
    ]
    return pl.DataFrame(
        {
            "tenant_id": tenant,
            "ticket_id": [f"{prefix}{i}" for i in range(n)],
            "customer_id": [f"cus_{i}" for i in rng.integers(0, PEOPLE, size=n)],
            "created_at": created,
            "first_response_at": response,
            "resolved_at": resolved,
            "first_response_target_at": [c + timedelta(hours=8) for c in created],
            "resolution_target_at": [c + timedelta(hours=48) for c in created],
        }
    )


def nps(
    rng: np.random.Generator, n: int, start: datetime, end: datetime, prefix: str, tenant: str = TENANT
) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "tenant_id": tenant,
            "source_system": "marketing",
            "nps_response_id": [f"{prefix}{i}" for i in range(n)],
            "customer_id": [f"cus_{i}" for i in rng.integers(0, PEOPLE, size=n)],
            "survey_type": "nps",
            "score": rng.integers(0, 11, size=n),
            "responded_at": _times(rng, n, start, end),
        }
    )


def orders(
    rng: np.random.Generator, n: int, start: datetime, end: datetime, prefix: str, tenant: str = TENANT
) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "tenant_id": tenant,
            "source_system": "web",
            "order_id": [f"{prefix}{i}" for i in range(n)],
            "customer_id": [f"cus_{i}" for i in rng.integers(0, PEOPLE, size=n)],
            "amount": np.round(rng.gamma(3, 20, size=n), 2),
            "status": rng.choice(["completed", "completed", "completed", "refunded"], size=n),
            "ordered_at": _times(rng, n, start, end),
        }
    )


def leads(rng: np.random.Generator, tenant: str = TENANT) -> pl.DataFrame:
    created = _times(rng, PEOPLE, START, AS_OF)
    converted = [
        c + timedelta(days=float(d)) if won else None
        for c, d, won in zip(created, rng.uniform(15, 90, size=PEOPLE), rng.random(PEOPLE) < 0.3, strict=True)
    ]
    converted = [c if c is None or c <= AS_OF else None for c in converted]
    return pl.DataFrame(
        {
            "tenant_id": tenant,
            "source_system": "crm",
            "lead_id": [f"L{i}" for i in range(PEOPLE)],
            "customer_id": [f"cus_{i}" for i in range(PEOPLE)],
            "created_at": created,
            "industry": _pick(rng, ["software", "retail", "education", None], PEOPLE),
            "employee_count": rng.choice([5, 40, 150, 800, 3000, 20000], size=PEOPLE),
            "job_title": _pick(
                rng, ["CEO", "Head of Data", "IT Manager", "Senior Analyst", "Analyst", None], PEOPLE
            ),
            "lead_source": rng.choice(["web", "referral", "event"], size=PEOPLE),
            "country_code": "GB",
            "sql_at": [c - timedelta(days=3) if c is not None else None for c in converted],
            "converted_at": converted,
            "status": ["converted" if c is not None else "working" for c in converted],
            "owner_id": "U1",
        },
        schema_overrides={"sql_at": pl.Datetime("us"), "converted_at": pl.Datetime("us")},
    )


def subscription_versions(rng: np.random.Generator, tenant: str = TENANT) -> pl.DataFrame:
    rows = []
    for i in range(0, PEOPLE, 2):
        started = START + timedelta(days=float(rng.uniform(0, 300)))
        rows.append((f"SUB{i}", "active", started, None, started))
        if rng.random() < 0.2:
            rows.append(
                (f"SUB{i}", "past_due", started, None, CUTOFF - timedelta(days=float(rng.uniform(1, 30))))
            )
        if rng.random() < 0.3:
            cancelled = CUTOFF + timedelta(days=float(rng.uniform(1, 80)))
            rows.append((f"SUB{i}", "cancelled", started, cancelled, cancelled))
    return pl.DataFrame(
        rows, schema=["record_id", "status", "started_at", "cancelled_at", "updated_at"], orient="row"
    ).with_columns(
        tenant_id=pl.lit(tenant),
        source_system=pl.lit("crm"),
        mrr=pl.lit(99.0),
        customer_id="cus_" + pl.col("record_id").str.slice(3),
        cancelled_at=pl.col("cancelled_at").cast(pl.Datetime("us")),
    )


def write_upstream(con: duckdb.DuckDBPyConnection, seed: int = 7) -> None:
    """Create every table the ML marts read, with data on both sides of the cut-off."""
    rng = np.random.default_rng(seed)
    for schema in ("raw", "staging", "intermediate", "marts"):
        con.execute(f"create schema if not exists {schema}")
    parts: dict[str, list[pl.DataFrame]] = {}
    for tenant in TENANTS:
        for name, frame in {
            "lead": leads(rng, tenant),
            "events": events(rng, 3000, START - timedelta(days=200), AS_OF, tenant),
            "touches": touches(rng, 1500, START - timedelta(days=60), AS_OF, tenant),
            "tickets": tickets(rng, 300, START, AS_OF, "T", tenant),
            "nps": nps(rng, 200, START, AS_OF, "N", tenant),
            "orders": orders(rng, 800, START, AS_OF, "O", tenant),
            "subs": subscription_versions(rng, tenant),
        }.items():
            parts.setdefault(name, []).append(frame)
    frames = {name: pl.concat(frames) for name, frames in parts.items()}
    for name, frame in frames.items():
        con.register(f"_{name}", frame.to_arrow())
    con.execute(
        "create or replace table intermediate.int_tenants_as_of as "
        "select unnest(?::varchar[]) as tenant_id, ?::timestamp as as_of_at",
        [list(TENANTS), AS_OF],
    )
    con.execute("create or replace table staging.stg_crm__leads as select * exclude (customer_id) from _lead")
    con.execute("create or replace table marts.fct_events as select * from _events")
    con.execute(
        "create or replace table intermediate.int_campaign_touches_collected as select * from _touches"
    )
    con.execute("create or replace table intermediate.int_tickets_sla_measured as select * from _tickets")
    con.execute(
        "create or replace table staging.stg_crm__nps_responses as select * exclude (customer_id) from _nps"
    )
    con.execute(
        "create or replace table staging.stg_crm__orders as select * exclude (customer_id) from _orders"
    )
    con.execute(
        "create or replace table raw.subscriptions as select tenant_id, source_system, record_id, status, mrr, "
        "timezone('UTC', started_at) as started_at, timezone('UTC', cancelled_at) as cancelled_at, "
        "timezone('UTC', updated_at) as updated_at, timezone('UTC', updated_at) as _loaded_at from _subs"
    )
    con.execute(
        """
        create or replace table intermediate.int_identity_records_resolved as
        select distinct tenant_id, 'leads' as entity, source_system, lead_id as record_id, customer_id from _lead
        union all select distinct tenant_id, 'subscriptions', source_system, record_id, customer_id from _subs
        union all select tenant_id, 'nps_responses', source_system, nps_response_id, customer_id from _nps
        union all select tenant_id, 'orders', source_system, order_id, customer_id from _orders
        """
    )
    for name in frames:
        con.unregister(f"_{name}")
