"""A small synthetic warehouse with the serving tables, for API and snapshot tests.

It stands in for the dbt marts and ML scores so that the serving layer can be tested
on its own; its columns follow the serving contract in docs/api.md. Two tenants with
overlapping customer ids make cross-tenant leaks visible: ``acme`` and ``globex`` both
have ``cus_0001``, with different people behind them.
"""

from __future__ import annotations

from datetime import UTC, datetime

from warehouse.connection import load_key, open_encrypted
from warehouse.settings import Settings

TENANTS = ("acme", "globex")
CUSTOMERS = {"acme": 30, "globex": 20}
BASE_TIME = datetime(2025, 1, 1, tzinfo=UTC)
ACME_ONLY_CUSTOMER = "cus_0025"


def email(tenant: str, n: int) -> str:
    return f"person{n}@{tenant}.example"


def build_serving_warehouse(
    settings: Settings,
    *,
    with_scores: bool = True,
    generation: int = 1,
    customers: dict[str, int] | None = None,
) -> None:
    """Create (or recreate) the serving tables in ``settings.warehouse_path``, schema ``marts``/``ml``.

    ``generation`` changes the data a little (names carry it) so that tests can tell
    two published snapshots apart.
    """
    settings.warehouse_path.parent.mkdir(parents=True, exist_ok=True)
    key = load_key(settings, create=True)
    con = open_encrypted(settings.warehouse_path, key)
    try:
        con.execute("create schema if not exists marts")
        con.execute("create schema if not exists ml")
        con.execute(
            """
            create or replace table marts.customer_360 (
                tenant_id varchar, customer_id varchar, first_name varchar, last_name varchar,
                email varchar, phone varchar, company varchar, country varchar,
                lifecycle_stage varchar, owner_id varchar, segments varchar[],
                consents json, total_revenue double, order_count bigint, ticket_count bigint,
                first_seen_at timestamptz, last_activity_at timestamptz
            )"""
        )
        con.execute(
            """
            create or replace table marts.customer_identifiers (
                tenant_id varchar, identifier_type varchar, identifier_value varchar, customer_id varchar
            )"""
        )
        con.execute(
            """
            create or replace table marts.customer_merges (
                tenant_id varchar, from_customer_id varchar, to_customer_id varchar,
                rule varchar, evidence varchar, merged_at timestamptz
            )"""
        )
        con.execute(
            """
            create or replace table marts.customer_timeline (
                tenant_id varchar, customer_id varchar, occurred_at timestamptz, source varchar,
                activity_type varchar, detail varchar
            )"""
        )
        con.execute(
            """
            create or replace table marts.segments (
                tenant_id varchar, segment_id varchar, name varchar, description varchar
            )"""
        )
        con.execute(
            """
            create or replace table marts.segment_members (
                tenant_id varchar, segment_id varchar, customer_id varchar, added_at timestamptz
            )"""
        )
        # Set-based inserts: acme has customers 1..30, globex 1..20, so cus_0021..cus_0030
        # exist in acme only (the cross-tenant tests ask globex for them).
        counts = " union all ".join(
            f"select '{tenant}' as tenant_id, n from range(1, {count} + 1) r(n)"
            for tenant, count in (customers or CUSTOMERS).items()
        )
        con.execute(f"create or replace temp table people as {counts}")
        con.execute(
            f"""
            insert into marts.customer_360
            select tenant_id, printf('cus_%04d', n), 'First' || n || 'g{generation}',
                   upper(tenant_id[1]) || tenant_id[2:] || n, 'person' || n || '@' || tenant_id || '.example',
                   printf('+4415550%05d', n), tenant_id || ' Co', 'GB',
                   ['lead', 'mql', 'sql', 'opportunity', 'customer'][n % 5 + 1], 'usr_' || (n % 3),
                   case when n % 5 = 0 then ['all', 'vip'] else ['all'] end,
                   '{{"email": {{"marketing": "granted"}}}}', 100.0 * n, n % 7, n % 3,
                   timestamptz '2025-01-01 00:00:00+00',
                   timestamptz '2025-01-01 00:00:00+00' + n * interval 1 day
            from people
            """
        )
        con.execute(
            """
            insert into marts.customer_identifiers
            select tenant_id, t.kind, t.val, customer_id from (
                select tenant_id, customer_id, unnest([
                    {'kind': 'email', 'val': email},
                    {'kind': 'phone', 'val': phone},
                    {'kind': 'user_id', 'val': 'u-' || substr(customer_id, 5)::int},
                    {'kind': 'anonymous_id', 'val': 'anon-' || tenant_id || '-' || substr(customer_id, 5)::int},
                    {'kind': 'external_id', 'val': 'crm:' || substr(customer_id, 5)::int}
                ]) as t
                from marts.customer_360
            )
            """
        )
        # Customer 1 has 60 activities (pagination); the others 0-3.
        con.execute(
            """
            insert into marts.customer_timeline
            select tenant_id, printf('cus_%04d', n), timestamptz '2025-01-01 00:00:00+00' + k * interval 1 hour,
                   'web', 'page_view', '/page/' || k
            from people, range(0, 100) r(k)
            where k < n % 4 + (case when n = 1 then 60 else 0 end)
            """
        )
        con.execute(
            """
            insert into marts.segment_members
            select tenant_id, 'seg_' || s, customer_id, timestamptz '2025-01-01 00:00:00+00'
            from (select tenant_id, customer_id, unnest(segments) as s from marts.customer_360)
            """
        )
        for tenant in customers or CUSTOMERS:
            # cus_9001 was merged into cus_0002; its identifiers now point at the survivor.
            con.execute(
                "insert into marts.customer_merges values (?, 'cus_9001', 'cus_0002', 'email', "
                "'shared normalised email', ?)",
                [tenant, BASE_TIME],
            )
            con.execute(
                "insert into marts.segments values (?, 'seg_all', 'All customers', 'everyone'), "
                "(?, 'seg_vip', 'VIP', 'top revenue')",
                [tenant, tenant],
            )
        con.execute(
            "insert into marts.segments values ('acme', 'seg_acme_only', 'Acme only', 'no members yet')"
        )
        if with_scores:
            con.execute(
                """
                create or replace table ml.lead_scores as
                select tenant_id, customer_id, 'led_' || substr(customer_id, 5) as lead_id,
                       round(1.0 - (hash(tenant_id || customer_id) % 1000) / 1000.0, 3) as score,
                       'lead-v1' as model_version,
                       ['recent_activity', 'company_size'] as reasons,
                       owner_id, lifecycle_stage as stage,
                       timestamptz '2025-02-01 00:00:00+00' as scored_at
                from marts.customer_360 where lifecycle_stage in ('lead', 'mql', 'sql')
                """
            )
            con.execute(
                """
                create or replace table ml.churn_predictions as
                select tenant_id, customer_id, 0.25 as churn_probability, 'churn-v3' as model_version,
                       ['few_logins'] as reasons, timestamptz '2025-02-01 00:00:00+00' as scored_at
                from marts.customer_360
                """
            )
            con.execute(
                """
                create or replace table ml.customer_value as
                select tenant_id, customer_id, total_revenue * 2 as predicted_value, 'clv-v2' as model_version,
                       ['order_count'] as reasons, timestamptz '2025-02-01 00:00:00+00' as scored_at
                from marts.customer_360
                """
            )
        else:
            for table in ("lead_scores", "churn_predictions", "customer_value"):
                con.execute(f"drop table if exists ml.{table}")
    finally:
        con.close()


def publish_fixture_snapshot(settings: Settings, **kwargs):
    """Build the synthetic warehouse and publish it as a snapshot; returns its info."""
    from warehouse.snapshots import find_serving_tables, publish_snapshot

    build_serving_warehouse(settings, **kwargs)
    key = load_key(settings)
    con = open_encrypted(settings.warehouse_path, key)
    try:
        return publish_snapshot(con, find_serving_tables(con), settings=settings)
    finally:
        con.close()
