"""A small published snapshot with every table the dashboards read.

It starts from the API's synthetic serving warehouse (tests/serving_fixtures.py: two
tenants, ``acme`` with 30 customers and ``globex`` with 20) and adds the other marts
with a few hand-written rows each. The tables are created from the dbt contracts in
``dbt_project/models/marts/*/_*__models.yml`` (column names and types), so a renamed
mart column breaks these tests instead of the dashboards. The ML tables follow the
score contract of the ML issue (tenant_id, customer_id, model_version, reasons,
scored_at, risk_band) with each table's prediction column named as pipelines/ml names it:
lead_scores.score, churn_predictions.churn_probability, customer_value.predicted_value.
(The generic ``score`` column is accepted too: tests/dashboards/test_access.py.)

Tenant-specific text (``Acme spring sale`` / ``Globex launch``, agent names) lets the
tests see that a page shows its tenant's rows and never the other's.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from tests.serving_fixtures import build_serving_warehouse
from warehouse.connection import load_key, open_encrypted
from warehouse.settings import REPO_ROOT, Settings

# Created by tests/serving_fixtures.py; the other marts are created here from their contracts.
SERVING_FIXTURE_TABLES = {
    "customer_360",
    "customer_identifiers",
    "customer_merges",
    "customer_timeline",
    "segments",
    "segment_members",
}


def mart_contracts() -> dict[str, list[tuple[str, str]]]:
    """Mart -> [(column, data type)] from the dbt models' YAML."""
    contracts: dict[str, list[tuple[str, str]]] = {}
    for path in sorted((REPO_ROOT / "dbt_project" / "models" / "marts").glob("*/_*__models.yml")):
        for model in yaml.safe_load(Path(path).read_text()).get("models", []):
            columns = [(c["name"], c["data_type"]) for c in model.get("columns", []) if c.get("data_type")]
            if columns:
                contracts[model["name"]] = columns
    return contracts


def _create_from_contract(con, schema: str, table: str, columns: list[tuple[str, str]]) -> None:
    ddl = ", ".join(f'"{name}" {data_type}' for name, data_type in columns)
    con.execute(f"create or replace table {schema}.{table} ({ddl})")


ROWS_SQL = [
    # customer_360: the real mart's extra columns (tags, RFM, sources, MRR) and varied consents:
    # odd customers granted e-mail, even ones withdrew, every 10th has no consent record at all.
    """
    update marts.customer_360 set
        tags = case when n % 5 = 0 then ['high_value'] else [] end,
        rfm_segment = ['champions', 'loyal', 'at_risk', 'hibernating'][n % 4 + 1],
        source_records = n % 3 + 1,
        sources = ['crm', 'web'],
        mrr = 10.0 * (n % 4),
        consents = case when n % 10 = 0 then null
                        when n % 2 = 1 then '{"email": {"marketing": "granted"}, "sms": {"marketing": "granted"}}'
                        else '{"email": {"marketing": "withdrawn"}}' end
    from (select tenant_id as t, customer_id as c, substr(customer_id, 5)::int as n from marts.customer_360) x
    where customer_360.tenant_id = x.t and customer_360.customer_id = x.c
    """,
    """
    insert into marts.customer_aliases by name
    select tenant_id, customer_id as alias_customer_id, customer_id, 0 as merge_hops, true as is_live
    from marts.customer_360
    union all
    select distinct tenant_id, 'cus_9001', 'cus_0002', 1, false from marts.customer_360
    """,
    """
    insert into marts.opportunities by name
    select t.tenant_id, printf('opp_%s_%02d', t.tenant_id, k) as opportunity_id, 'crm' as source_system,
           printf('cus_%04d', k + 1) as customer_id, 'usr_' || (k % 3) as owner_id,
           t.tenant_id || ' deal ' || k as opportunity_name,
           ['prospecting', 'qualification', 'proposal', 'negotiation', 'closed_won', 'closed_lost'][k % 6 + 1] as stage,
           k % 6 + 1 as stage_order, k % 6 >= 4 as is_closed, k % 6 = 4 as is_won,
           1000.0 * (k + 1) as amount, 'gbp' as currency, [0.1, 0.25, 0.5, 0.75, 1.0, 0.0][k % 6 + 1] as win_probability,
           1000.0 * (k + 1) * [0.1, 0.25, 0.5, 0.75, 1.0, 0.0][k % 6 + 1] as weighted_amount,
           date '2025-01-01' + k::integer as close_date, timestamp '2025-01-01' + k * interval 1 day as created_at,
           case when k % 6 >= 4 then timestamp '2025-01-10' + k * interval 12 hour end as closed_at,
           3.0 + k % 4 as days_in_prospecting,
           case when k % 6 >= 1 then 5.0 + k % 3 end as days_in_qualification,
           case when k % 6 >= 2 then 7.0 end as days_in_proposal,
           case when k % 6 >= 3 then 4.0 end as days_in_negotiation
    from (select distinct tenant_id from marts.customer_360) t, range(0, 18) r(k)
    """,
    """
    insert into marts.pipeline_by_stage_owner by name
    select tenant_id, stage, stage_order, owner_id, count(*) as open_opportunities, sum(amount) as pipeline_amount,
           sum(weighted_amount) as weighted_pipeline_amount
    from marts.opportunities where not is_closed group by all
    """,
    """
    insert into marts.pipeline_daily_snapshots by name
    select o.tenant_id, d::date as snapshot_date, o.stage, count(*) as open_opportunities,
           sum(o.amount) as pipeline_amount, sum(o.weighted_amount) as weighted_pipeline_amount
    from marts.opportunities o, generate_series(timestamp '2025-01-01', timestamp '2025-01-31', interval 1 day) g(d)
    where not o.is_closed and o.created_at <= d group by all
    """,
    """
    insert into marts.win_rates by name
    select tenant_id, owner_id, date_trunc('quarter', closed_at)::date as close_quarter,
           count(*) filter (where is_won) as won, count(*) filter (where not is_won) as lost,
           count(*) filter (where is_won) / count(*) as win_rate, sum(amount) filter (where is_won) as won_amount,
           null as win_rate_by_amount
    from marts.opportunities where is_closed group by all
    """,
    """
    insert into marts.sales_forecast by name
    select tenant_id, date '2025-01-01' as quarter_start, date '2025-04-01' as quarter_end, 60 as days_left,
           sum(amount) filter (where is_won) as won_amount, sum(amount) filter (where not is_closed) as open_pipeline,
           sum(weighted_amount) filter (where not is_closed) as weighted_pipeline, 100.0 as daily_run_rate,
           6000.0 as run_rate_amount,
           sum(amount) filter (where is_won) + sum(weighted_amount) filter (where not is_closed) + 6000.0 as forecast_amount
    from marts.opportunities group by all
    """,
    """
    insert into marts.tickets by name
    select t.tenant_id, printf('tkt_%s_%02d', t.tenant_id, k) as ticket_id, 'support' as source_system,
           printf('cus_%04d', k % 20 + 1) as customer_id, 'Help ' || k as subject, 'billing' as category,
           ['urgent', 'high', 'normal', 'low'][k % 4 + 1] as priority, case when k % 5 = 0 then 'open' else 'solved' end as status,
           'email' as channel, 'agt_' || (k % 3) as assignee_id,
           case t.tenant_id when 'acme' then ['Ada Acme', 'Ben Acme', 'Cy Acme'] else ['Gil Globex', 'Hal Globex', 'Ivy Globex'] end[k % 3 + 1] as assignee_name,
           k % 5 = 0 as is_open, timestamp '2025-01-02' + k * interval 14 hour as created_at,
           timestamp '2025-01-02' + k * interval 14 hour + interval 30 minute as first_response_at,
           case when k % 5 <> 0 then timestamp '2025-01-03' + k * interval 14 hour end as resolved_at,
           k * 1.0 as first_response_minutes, 24.0 as resolution_hours,
           k % 4 = 0 as first_response_breached, k % 6 = 0 as resolution_breached, k % 4 = 0 or k % 6 = 0 as sla_breached
    from (select distinct tenant_id from marts.customer_360) t, range(0, 40) r(k)
    """,
    """
    insert into marts.support_backlog_daily by name
    select t.tenant_id, d::date as backlog_date, p as priority, 2 as created, 1 as resolved,
           (extract(day from d) + length(p))::bigint as open_at_end_of_day, 1 as open_past_target
    from (select distinct tenant_id from marts.customer_360) t,
         generate_series(timestamp '2025-01-01', timestamp '2025-01-31', interval 1 day) g(d),
         (values ('urgent'), ('high'), ('normal'), ('low')) ps(p)
    """,
    """
    insert into marts.agent_workload by name
    select tenant_id, assignee_id as agent_id, any_value(assignee_name) as agent_name, 'tier1' as team,
           count(*) filter (where is_open) as open_tickets, (2 * count(*) filter (where is_open))::bigint as open_workload_points,
           count(*) filter (where not is_open) as solved_30d, median(first_response_minutes) as median_first_response_minutes,
           median(resolution_hours) as median_resolution_hours, count(*) filter (where sla_breached) as sla_breaches_30d
    from marts.tickets group by tenant_id, assignee_id
    """,
    """
    insert into marts.campaign_performance by name
    select t.tenant_id, printf('cmp_%s_%d', t.tenant_id, k) as campaign_id,
           case t.tenant_id when 'acme' then 'Acme spring sale ' else 'Globex launch ' end || k as campaign_name,
           ['email', 'sms', 'paid_social'][k % 3 + 1] as channel, 'completed' as status, date '2025-01-05' as start_date,
           date '2025-01-20' as end_date, 500.0 * (k + 1) as budget, 100 as members, 100 as sent, 95 as delivered,
           40 as opened, 10 + k as clicked, 1 as bounced, 0 as unsubscribed, 5 as responded, 2 + k as converted,
           1000.0 * (k + 1) as first_touch_revenue, 900.0 * (k + 1) as last_touch_revenue,
           950.0 * (k + 1) as linear_revenue, 980.0 * (k + 1) as position_based_revenue,
           0.4 as open_rate, (10 + k) / 100 as click_rate, (2 + k) / 100 as conversion_rate
    from (select distinct tenant_id from marts.customer_360) t, range(0, 6) r(k)
    """,
    """
    insert into marts.channel_performance by name
    select tenant_id, channel, count(*) as campaigns, sum(budget) as budget, sum(members) as members, sum(sent) as sent,
           sum(delivered) as delivered, sum(opened) as opened, sum(clicked) as clicked, sum(responded) as responded,
           sum(converted) as converted, sum(linear_revenue) as linear_revenue,
           sum(position_based_revenue) as position_based_revenue, sum(opened) / sum(sent) as open_rate,
           sum(clicked) / sum(sent) as click_rate, sum(converted) / sum(members) as conversion_rate
    from marts.campaign_performance group by all
    """,
    """
    insert into marts.revenue_attribution by name
    select c.tenant_id, 'opp_' || c.campaign_id as opportunity_id, 'cus_0001' as customer_id, 1000.0 as amount,
           timestamp '2025-01-25' as closed_at, c.campaign_id, c.campaign_name, c.channel, 'member_added' as touch_type,
           timestamp '2025-01-10' as touched_at, 1 as touch_number, 2 as touches_total,
           1.0 as first_touch_credit, 0.0 as last_touch_credit, 0.5 as linear_credit, 0.4 as position_based_credit,
           c.first_touch_revenue, c.last_touch_revenue, c.linear_revenue, c.position_based_revenue
    from marts.campaign_performance c
    """,
    """
    insert into marts.lifecycle_funnel by name
    select t.tenant_id, s.stage, s.stage_order, s.reached, s.reached_next_stage,
           s.reached_next_stage / s.reached as conversion_rate, 12.0 as median_days_in_stage
    from (select distinct tenant_id from marts.customer_360) t,
         (values ('visitor', 1, 100, 60), ('lead', 2, 60, 30), ('mql', 3, 30, 18), ('sql', 4, 18, 10),
                 ('opportunity', 5, 10, 5), ('customer', 6, 5, 0)) s(stage, stage_order, reached, reached_next_stage)
    """,
    """
    insert into marts.customer_health_inputs by name
    select tenant_id, customer_id, lifecycle_stage, 10.0 as mrr,
           (substr(customer_id, 5)::int * 3)::integer as health_score,
           case when substr(customer_id, 5)::int * 3 >= 60 then 'healthy'
                when substr(customer_id, 5)::int * 3 >= 30 then 'watch' else 'at_risk' end as health_band
    from marts.customer_360
    """,
    """
    insert into marts.fct_sessions by name
    select tenant_id, customer_id || '-s' || k as session_id, customer_id, 1 + k as session_number,
           timestamp '2025-01-01' + (substr(customer_id, 5)::int + k) * interval 1 day as started_at,
           3 as events_count, 2 as page_views
    from marts.customer_360, range(0, 2) r(k)
    """,
    """
    insert into marts.identity_blocked_identifiers by name
    select distinct tenant_id, 'email' as identifier_type, 'info@' || tenant_id || '.example' as identifier_value,
           'role_mailbox' as reason, 12 as linked_people, 0 as linked_user_ids
    from marts.customer_360
    """,
    """
    insert into marts.source_freshness by name
    select tenant_id, entity, 2 as files, 120 as rows_in, 110 as rows_loaded, 7 as rows_quarantined,
           3 as rows_duplicate, timestamp '2025-01-31 06:00' as first_loaded_at, timestamp '2025-02-01 06:00' as last_loaded_at
    from (values ('acme', 'events'), ('globex', 'events'), ('*', 'contacts'), ('*', 'tickets')) v(tenant_id, entity)
    """,
    """
    insert into marts.quarantine_reasons by name
    select tenant_id, entity, reason, n as quarantined_rows, 1 as files,
           timestamp '2025-02-01 06:00' as first_quarantined_at, timestamp '2025-02-01 06:00' as last_quarantined_at
    from (values ('acme', 'events', 'malformed_json', 5), ('acme', 'events', 'missing_required_field', 2),
                 ('globex', 'events', 'globex_only_reason', 9), ('*', 'contacts', 'malformed_csv', 3))
         v(tenant_id, entity, reason, n)
    """,
]

SCORES_SQL = [
    """
    create or replace table ml.lead_scores as
    select tenant_id, customer_id, round(0.99 - substr(customer_id, 5)::int / 100, 2) as score, 'lead-v1' as model_version,
           ['visited pricing page 3 times', 'company size 200+'] as reasons,
           timestamp '2025-02-01' as scored_at,
           case when substr(customer_id, 5)::int < 10 then 'high' else 'low' end as risk_band
    from marts.customer_360 where lifecycle_stage in ('lead', 'mql', 'sql')
    """,
    """
    create or replace table ml.churn_predictions as
    select tenant_id, customer_id, round(substr(customer_id, 5)::int / 31, 3) as churn_probability,
           'churn-v1' as model_version,
           ['no login for 45 days', 'two SLA breaches'] as reasons, timestamp '2025-02-01' as scored_at,
           case when substr(customer_id, 5)::int >= 20 then 'high' when substr(customer_id, 5)::int >= 10 then 'medium'
                else 'low' end as risk_band
    from marts.customer_360
    """,
    """
    create or replace table ml.customer_value as
    select tenant_id, customer_id, 50.0 * substr(customer_id, 5)::int as predicted_value, 'clv-v1' as model_version,
           ['orders every 40 days'] as reasons, timestamp '2025-02-01' as scored_at, null::varchar as risk_band
    from marts.customer_360
    """,
    """
    -- the layout pipelines/ml writes (ml.lifecycle.MODEL_METRICS_COLUMNS): no tenant_id
    create or replace table ml.model_metrics as
    select * from (values ('churn', 'churn-v1', 0.81, 0.42, 0.12, 0.39, 0.15, 60::bigint, 400::bigint),
                          ('lead_scoring', 'lead-v1', 0.77, 0.31, 0.15, 0.45, 0.2, 80::bigint, 400::bigint))
        v(model, model_version, roc_auc, pr_auc, brier, log_loss, base_rate, positives, rows)
    """,
    """
    create or replace table ml.model_calibration as
    select 'churn' as model, 'churn-v1' as model_version, k / 10 + 0.05 as predicted, k / 10 + 0.04 as observed, 100 as rows
    from range(0, 10) r(k)
    """,
]


def build_dashboard_warehouse(settings: Settings, *, with_scores: bool = True) -> None:
    build_serving_warehouse(settings, with_scores=False)
    con = open_encrypted(settings.warehouse_path, load_key(settings))
    try:
        contracts = mart_contracts()
        for table, columns in contracts.items():
            if table not in SERVING_FIXTURE_TABLES:
                _create_from_contract(con, "marts", table, columns)
        existing = {r[0] for r in con.execute("describe marts.customer_360").fetchall()}
        for name, data_type in contracts["customer_360"]:
            if name not in existing:
                con.execute(f'alter table marts.customer_360 add column "{name}" {data_type}')
        for statement in ROWS_SQL:
            con.execute(statement)
        if with_scores:
            for statement in SCORES_SQL:
                con.execute(statement)
    finally:
        con.close()


def publish_dashboard_snapshot(settings: Settings, *, with_scores: bool = True):
    """Build the dashboard warehouse and publish it; returns the snapshot's info."""
    from warehouse.snapshots import find_serving_tables, publish_snapshot

    build_dashboard_warehouse(settings, with_scores=with_scores)
    con = open_encrypted(settings.warehouse_path, load_key(settings))
    try:
        return publish_snapshot(con, find_serving_tables(con), settings=settings)
    finally:
        con.close()
