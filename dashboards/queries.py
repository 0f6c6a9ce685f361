"""Every query the dashboards run, in one place: fixed SQL text, values bound as parameters.

Each function takes a read-only snapshot connection (``SnapshotReader().connection()``)
and the viewer's tenant, and returns a pandas frame. No SQL is ever built from a value
a user typed: filters that may be absent are written ``(? is null or col = ?)`` and list
filters ``(len(?) = 0 or list_contains(?, col))``, so the text of every statement is a
constant. Every statement is scoped by ``tenant_id = ?`` (DESIGN.md decision 4).

Tables that may be missing from a snapshot (the ML scores until the ML issue lands,
the operations marts before the next publish) are checked with :func:`tables` first;
the page shows an empty state instead of failing.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import duckdb
import pandas as pd

from warehouse.segments import CONSENT_CHANNELS, SEGMENT_MEMBERS_SQL, SegmentFilters, segment_params

SCORE_TABLES = ("lead_scores", "churn_predictions", "customer_value")
# The score contract: the columns every score table has, and the column holding its
# prediction: the ML pipeline's name first (pipelines/ml), the generic ``score`` second.
SCORE_BASE_COLUMNS = frozenset({"tenant_id", "customer_id", "model_version", "reasons", "scored_at"})
SCORE_VALUE_COLUMNS: dict[str, tuple[str, ...]] = {
    "lead_scores": ("score",),
    "churn_predictions": ("churn_probability", "score"),
    "customer_value": ("predicted_value", "score"),
}
SCORE_VARIANTS = [(table, column) for table, columns in SCORE_VALUE_COLUMNS.items() for column in columns]


def _df(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any]) -> pd.DataFrame:
    return con.execute(sql, params).df()


# --- what the snapshot holds -------------------------------------------------------------

TABLES_SQL = """
select table_name, list(column_name order by ordinal_position) as columns
from information_schema.columns
where table_catalog = current_database()
group by table_name
"""


def tables(con: duckdb.DuckDBPyConnection) -> dict[str, list[str]]:
    """Table name -> its columns, for every table of the snapshot."""
    return {name: list(columns) for name, columns in con.execute(TABLES_SQL).fetchall()}


def score_column(schema: dict[str, list[str]], table: str) -> str | None:
    """The column holding ``table``'s prediction, or None when the table is absent or off-contract."""
    columns = set(schema.get(table, ()))
    if not columns >= SCORE_BASE_COLUMNS:
        return None
    return next((c for c in SCORE_VALUE_COLUMNS[table] if c in columns), None)


def has_scores(schema: dict[str, list[str]], table: str) -> bool:
    return score_column(schema, table) is not None


def _band(value: str, with_band: bool) -> str:
    """The risk band: the table's own, else from the probability (0.5 high, 0.2 medium)."""
    if with_band:
        return "risk_band"
    return f"case when {value} >= 0.5 then 'high' when {value} >= 0.2 then 'medium' else 'low' end"


SNAPSHOT_INFO_SQL = "select version, built_at, tables::varchar as tables, model_versions::varchar as model_versions from snapshot_info"


def snapshot_info(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    return _df(con, SNAPSHOT_INFO_SQL, [])


# --- overview ----------------------------------------------------------------------------

DATA_SPAN_SQL = """
select min(first_seen_at)::date as first_day, max(last_activity_at)::date as last_day
from customer_360 where tenant_id = ?
"""


def data_span(con: duckdb.DuckDBPyConnection, tenant: str) -> pd.DataFrame:
    """The tenant's first and last day of activity: the date filters' bounds and default."""
    return _df(con, DATA_SPAN_SQL, [tenant])


CUSTOMER_KPIS_SQL = """
with as_of as (select max(last_activity_at) as as_of from customer_360 where tenant_id = ?)
select
    count(*) as customers,
    count(*) filter (where last_activity_at >= as_of.as_of - interval 30 days) as active_customers,
    coalesce(sum(total_revenue), 0) as lifetime_revenue,
    count(*) filter (where lifecycle_stage = 'Customer' or lower(lifecycle_stage) = 'customer') as paying_customers
from customer_360, as_of
where tenant_id = ?
"""


def customer_kpis(con: duckdb.DuckDBPyConnection, tenant: str) -> pd.DataFrame:
    return _df(con, CUSTOMER_KPIS_SQL, [tenant, tenant])


NEW_CUSTOMERS_MONTHLY_SQL = """
select date_trunc('month', first_seen_at)::date as month, count(*) as new_customers
from customer_360
where tenant_id = ? and first_seen_at::date between ? and ?
group by all order by month
"""


def new_customers_monthly(
    con: duckdb.DuckDBPyConnection, tenant: str, start: date, end: date
) -> pd.DataFrame:
    return _df(con, NEW_CUSTOMERS_MONTHLY_SQL, [tenant, start, end])


ACTIVE_CUSTOMERS_MONTHLY_SQL = """
select date_trunc('month', started_at)::date as month, count(distinct customer_id) as active_customers
from fct_sessions
where tenant_id = ? and customer_id is not null and started_at::date between ? and ?
group by all order by month
"""


def active_customers_monthly(
    con: duckdb.DuckDBPyConnection, tenant: str, start: date, end: date
) -> pd.DataFrame:
    return _df(con, ACTIVE_CUSTOMERS_MONTHLY_SQL, [tenant, start, end])


WON_REVENUE_MONTHLY_SQL = """
select date_trunc('month', closed_at)::date as month, sum(amount) as won_revenue, count(*) as won_deals
from opportunities
where tenant_id = ? and is_won and closed_at::date between ? and ?
group by all order by month
"""


def won_revenue_monthly(con: duckdb.DuckDBPyConnection, tenant: str, start: date, end: date) -> pd.DataFrame:
    return _df(con, WON_REVENUE_MONTHLY_SQL, [tenant, start, end])


PIPELINE_DAILY_SQL = """
select snapshot_date as day, sum(pipeline_amount) as pipeline_amount,
       sum(weighted_pipeline_amount) as weighted_pipeline_amount, sum(open_opportunities) as open_opportunities
from pipeline_daily_snapshots
where tenant_id = ? and snapshot_date between ? and ?
group by all order by day
"""


def pipeline_daily(con: duckdb.DuckDBPyConnection, tenant: str, start: date, end: date) -> pd.DataFrame:
    return _df(con, PIPELINE_DAILY_SQL, [tenant, start, end])


OPEN_PIPELINE_SQL = """
select count(*) as open_opportunities, coalesce(sum(amount), 0) as pipeline_amount,
       coalesce(sum(weighted_amount), 0) as weighted_pipeline_amount
from opportunities where tenant_id = ? and not is_closed
"""


def open_pipeline(con: duckdb.DuckDBPyConnection, tenant: str) -> pd.DataFrame:
    return _df(con, OPEN_PIPELINE_SQL, [tenant])


WIN_RATE_SQL = """
select count(*) filter (where is_won) as won, count(*) filter (where not is_won) as lost,
       count(*) filter (where is_won) / nullif(count(*), 0) as win_rate
from opportunities
where tenant_id = ? and is_closed and closed_at::date between ? and ?
"""


def win_rate(con: duckdb.DuckDBPyConnection, tenant: str, start: date, end: date) -> pd.DataFrame:
    return _df(con, WIN_RATE_SQL, [tenant, start, end])


WIN_RATE_QUARTERLY_SQL = """
select close_quarter as quarter, sum(won) as won, sum(lost) as lost,
       sum(won) / nullif(sum(won) + sum(lost), 0) as win_rate
from win_rates
where tenant_id = ? and close_quarter between date_trunc('quarter', ?::date) and ?
group by all order by quarter
"""


def win_rate_quarterly(con: duckdb.DuckDBPyConnection, tenant: str, start: date, end: date) -> pd.DataFrame:
    return _df(con, WIN_RATE_QUARTERLY_SQL, [tenant, start, end])


TICKET_KPIS_SQL = """
select
    count(*) filter (where is_open) as open_tickets,
    count(*) filter (where created_at::date between ? and ?) as tickets_in_range,
    count(*) filter (where created_at::date between ? and ? and sla_breached) as breached_in_range,
    (count(*) filter (where created_at::date between ? and ? and sla_breached))
        / nullif(count(*) filter (where created_at::date between ? and ?), 0) as sla_breach_rate
from tickets where tenant_id = ?
"""


def ticket_kpis(con: duckdb.DuckDBPyConnection, tenant: str, start: date, end: date) -> pd.DataFrame:
    return _df(con, TICKET_KPIS_SQL, [start, end, start, end, start, end, start, end, tenant])


BACKLOG_DAILY_SQL = """
select backlog_date as day, priority, open_at_end_of_day as open_tickets, open_past_target, created, resolved
from support_backlog_daily
where tenant_id = ? and backlog_date between ? and ?
order by day, priority
"""


def backlog_daily(con: duckdb.DuckDBPyConnection, tenant: str, start: date, end: date) -> pd.DataFrame:
    return _df(con, BACKLOG_DAILY_SQL, [tenant, start, end])


SLA_MONTHLY_SQL = """
select date_trunc('month', created_at)::date as month, count(*) as tickets,
       count(*) filter (where sla_breached) as breached,
       count(*) filter (where sla_breached) / count(*) as sla_breach_rate
from tickets
where tenant_id = ? and created_at::date between ? and ?
group by all order by month
"""


def sla_monthly(con: duckdb.DuckDBPyConnection, tenant: str, start: date, end: date) -> pd.DataFrame:
    return _df(con, SLA_MONTHLY_SQL, [tenant, start, end])


# One statement per (prediction column, has risk_band): all texts are fixed at import.
CHURN_RISK_COUNT_SQL = {
    (value, with_band): f"""
select count(*) filter (where {_band(value, with_band)} = 'high') as at_risk,
       count(*) as scored, max(scored_at) as scored_at, any_value(model_version) as model_version
from churn_predictions where tenant_id = ?
"""
    for value in SCORE_VALUE_COLUMNS["churn_predictions"]
    for with_band in (True, False)
}


def churn_risk_count(
    con: duckdb.DuckDBPyConnection, tenant: str, value: str, with_band: bool
) -> pd.DataFrame:
    """Customers at churn risk: risk band 'high' (or a probability of at least 0.5 without bands)."""
    return _df(con, CHURN_RISK_COUNT_SQL[(value, with_band)], [tenant])


# --- customer 360 ------------------------------------------------------------------------

SEARCH_SQL = """
with by_id as (
    select customer_id, 'customer id' as matched_on from customer_360 where tenant_id = ? and customer_id = ?
    union all
    select customer_id, 'former id (merged)' from customer_aliases
    where tenant_id = ? and alias_customer_id = ? and alias_customer_id <> customer_id
),
by_identifier as (
    select customer_id, 'identifier: ' || identifier_type as matched_on from customer_identifiers
    where tenant_id = ? and identifier_value in (?, ?, ?)
    union all
    -- a phone typed in national format (07911 593537): its significant digits end the E.164 number
    select customer_id, 'identifier: phone' from customer_identifiers
    where tenant_id = ? and identifier_type = 'phone' and length(?) >= 7 and identifier_value like '%' || ?
),
by_name as (
    select customer_id, 'name' as matched_on from customer_360
    where ? and tenant_id = ? and length(?) >= 2
      and (first_name || ' ' || coalesce(last_name, '')) ilike '%' || ? || '%'
),
found as (
    select customer_id, min(matched_on) as matched_on
    from (select * from by_id union all select * from by_identifier union all select * from by_name)
    group by customer_id
)
select c.customer_id, f.matched_on, c.first_name, c.last_name, c.email, c.phone, c.company, c.lifecycle_stage
from found f join customer_360 c on c.tenant_id = ? and c.customer_id = f.customer_id
order by f.matched_on, c.customer_id
limit 50
"""
SEARCH_NO_ALIASES_SQL = SEARCH_SQL.replace(
    """    union all
    select customer_id, 'former id (merged)' from customer_aliases
    where tenant_id = ? and alias_customer_id = ? and alias_customer_id <> customer_id
""",
    """    union all
    select to_customer_id, 'former id (merged)' from customer_merges
    where tenant_id = ? and from_customer_id = ?
""",
)


def normalise_search(text: str) -> tuple[str, str, str, str]:
    """The forms an identifier is stored in: as typed, lower-cased e-mail, phone as ``+digits``,
    and a phone's significant digits (no leading zeros) for numbers typed in national format."""
    raw = text.strip()
    digits = re.sub(r"\D", "", raw)
    looks_like_phone = bool(digits) and not re.search(r"[A-Za-z@]", raw)
    return raw, raw.lower(), ("+" + digits) if digits else raw, digits.lstrip("0") if looks_like_phone else ""


def search_customers(
    con: duckdb.DuckDBPyConnection, tenant: str, text: str, by_name: bool, has_aliases: bool
) -> pd.DataFrame:
    """Customers whose id, former id or any identifier equals ``text``, or (``by_name``) whose name contains it."""
    raw, lower, phone, national = normalise_search(text)
    params = [tenant, raw, tenant, raw, tenant, raw, lower, phone, tenant, national, national]
    params += [by_name, tenant, raw, raw, tenant]
    return _df(con, SEARCH_SQL if has_aliases else SEARCH_NO_ALIASES_SQL, params)


PROFILE_SQL = "select * from customer_360 where tenant_id = ? and customer_id = ?"


def profile(con: duckdb.DuckDBPyConnection, tenant: str, customer_id: str) -> pd.DataFrame:
    return _df(con, PROFILE_SQL, [tenant, customer_id])


IDENTIFIERS_SQL = """
select * exclude (tenant_id, customer_id) from customer_identifiers
where tenant_id = ? and customer_id = ? order by identifier_type, identifier_value
"""


def identifiers(con: duckdb.DuckDBPyConnection, tenant: str, customer_id: str) -> pd.DataFrame:
    return _df(con, IDENTIFIERS_SQL, [tenant, customer_id])


MERGES_SQL = """
select * exclude (tenant_id) from customer_merges
where tenant_id = ? and (from_customer_id = ? or to_customer_id = ?) order by merged_at
"""


def merges(con: duckdb.DuckDBPyConnection, tenant: str, customer_id: str) -> pd.DataFrame:
    return _df(con, MERGES_SQL, [tenant, customer_id, customer_id])


CONSENTS_SQL = """
with c as (select consents::json as consents from customer_360 where tenant_id = ? and customer_id = ?),
channels as (select unnest(json_keys(consents)) as channel, consents from c where consents is not null),
purposes as (select channel, unnest(json_keys(consents -> channel)) as purpose, consents from channels)
select channel, purpose, ((consents -> channel) ->> purpose) as status
from purposes order by channel, purpose
"""


def consents(con: duckdb.DuckDBPyConnection, tenant: str, customer_id: str) -> pd.DataFrame:
    return _df(con, CONSENTS_SQL, [tenant, customer_id])


# One statement per score table and prediction column: both are part of the constant text.
CUSTOMER_SCORE_SQL = {
    (table, value): f"""
select {value} as score, model_version, to_json(reasons)::varchar as reasons, scored_at
from {table} where tenant_id = ? and customer_id = ? order by {value} desc limit 1
"""
    for table, value in SCORE_VARIANTS
}


def customer_score(
    con: duckdb.DuckDBPyConnection, tenant: str, table: str, value: str, customer_id: str
) -> pd.DataFrame:
    return _df(con, CUSTOMER_SCORE_SQL[(table, value)], [tenant, customer_id])


TIMELINE_SQL = """
select occurred_at, source, activity_type, detail
from customer_timeline where tenant_id = ? and customer_id = ?
order by occurred_at desc limit ?
"""


def timeline(con: duckdb.DuckDBPyConnection, tenant: str, customer_id: str, limit: int = 200) -> pd.DataFrame:
    return _df(con, TIMELINE_SQL, [tenant, customer_id, limit])


# --- sales -------------------------------------------------------------------------------

PIPELINE_BY_STAGE_OWNER_SQL = """
select stage, stage_order, coalesce(owner_id, '(unassigned)') as owner_id, open_opportunities,
       pipeline_amount, weighted_pipeline_amount
from pipeline_by_stage_owner where tenant_id = ? order by stage_order, owner_id
"""


def pipeline_by_stage_owner(con: duckdb.DuckDBPyConnection, tenant: str) -> pd.DataFrame:
    return _df(con, PIPELINE_BY_STAGE_OWNER_SQL, [tenant])


STAGE_FLOW_SQL = """
with opps as (select * from opportunities where tenant_id = ?),
stages as (
    select * from (values
        (1, 'prospecting'), (2, 'qualification'), (3, 'proposal'), (4, 'negotiation'), (5, 'closed_won')
    ) s(stage_order, stage)
),
reached as (
    select 1 as stage_order, count(*) filter (where days_in_prospecting is not null or stage_order >= 1) as n,
           median(days_in_prospecting) as median_days from opps
    union all
    select 2, count(*) filter (where days_in_qualification is not null or (stage_order between 2 and 5)),
           median(days_in_qualification) from opps
    union all
    select 3, count(*) filter (where days_in_proposal is not null or (stage_order between 3 and 5)),
           median(days_in_proposal) from opps
    union all
    select 4, count(*) filter (where days_in_negotiation is not null or (stage_order between 4 and 5)),
           median(days_in_negotiation) from opps
    union all
    select 5, count(*) filter (where is_won), null from opps
)
select s.stage_order, s.stage, r.n as reached, r.median_days as median_days_in_stage,
       lead(r.n) over (order by s.stage_order) / nullif(r.n, 0) as conversion_to_next
from stages s join reached r using (stage_order)
order by s.stage_order
"""


def stage_flow(con: duckdb.DuckDBPyConnection, tenant: str) -> pd.DataFrame:
    """Opportunities that reached each stage, conversion to the next, median days spent in it."""
    return _df(con, STAGE_FLOW_SQL, [tenant])


FORECAST_SQL = """
select quarter_start, quarter_end, days_left, won_amount, open_pipeline, weighted_pipeline,
       daily_run_rate, run_rate_amount, forecast_amount
from sales_forecast where tenant_id = ? order by quarter_start
"""


def forecast(con: duckdb.DuckDBPyConnection, tenant: str) -> pd.DataFrame:
    return _df(con, FORECAST_SQL, [tenant])


TOP_LEADS_SQL = """
select l.customer_id, c.first_name, c.last_name, c.company, c.owner_id, c.lifecycle_stage,
       l.score, l.model_version, to_json(l.reasons)::varchar as reasons, l.scored_at
from lead_scores l
left join customer_360 c on c.tenant_id = l.tenant_id and c.customer_id = l.customer_id
where l.tenant_id = ?
  and coalesce(c.lifecycle_stage, '') not in ('Customer', 'Churned', 'customer', 'churned')
order by l.score desc, l.customer_id
limit ?
"""


def top_leads(con: duckdb.DuckDBPyConnection, tenant: str, limit: int = 25) -> pd.DataFrame:
    """Open leads (not yet customers) by lead score: lead_scores' prediction column is ``score``."""
    return _df(con, TOP_LEADS_SQL, [tenant, limit])


# --- marketing ---------------------------------------------------------------------------

CHANNEL_PERFORMANCE_SQL = """
select channel, campaigns, budget, members, sent, delivered, opened, clicked, responded, converted,
       linear_revenue, open_rate, click_rate, conversion_rate
from channel_performance where tenant_id = ? order by linear_revenue desc nulls last
"""


def channel_performance(con: duckdb.DuckDBPyConnection, tenant: str) -> pd.DataFrame:
    return _df(con, CHANNEL_PERFORMANCE_SQL, [tenant])


CAMPAIGNS_SQL = """
select campaign_name, channel, status, start_date, budget, members, sent, opened, clicked, converted,
       open_rate, click_rate, conversion_rate, linear_revenue
from campaign_performance
where tenant_id = ? and (len(?::varchar[]) = 0 or list_contains(?::varchar[], channel))
order by linear_revenue desc nulls last, campaign_name
limit 100
"""


def campaigns(con: duckdb.DuckDBPyConnection, tenant: str, channels: list[str]) -> pd.DataFrame:
    return _df(con, CAMPAIGNS_SQL, [tenant, channels, channels])


ATTRIBUTION_SQL = """
select channel,
       sum(first_touch_revenue) as "First touch",
       sum(last_touch_revenue) as "Last touch",
       sum(linear_revenue) as "Linear",
       sum(position_based_revenue) as "Position-based (40/20/40)"
from revenue_attribution where tenant_id = ?
group by channel order by channel
"""


def attribution(con: duckdb.DuckDBPyConnection, tenant: str) -> pd.DataFrame:
    return _df(con, ATTRIBUTION_SQL, [tenant])


FUNNEL_SQL = """
select stage, stage_order, reached, reached_next_stage, conversion_rate, median_days_in_stage
from lifecycle_funnel where tenant_id = ? order by stage_order
"""


def funnel(con: duckdb.DuckDBPyConnection, tenant: str) -> pd.DataFrame:
    return _df(con, FUNNEL_SQL, [tenant])


# --- support -----------------------------------------------------------------------------

SLA_BY_PRIORITY_SQL = """
select priority, count(*) as tickets,
       count(*) filter (where first_response_breached) as first_response_breaches,
       count(*) filter (where resolution_breached) as resolution_breaches,
       count(*) filter (where sla_breached) as breaches,
       1 - count(*) filter (where sla_breached) / count(*) as sla_attainment,
       median(first_response_minutes) as median_first_response_minutes,
       median(resolution_hours) as median_resolution_hours
from tickets
where tenant_id = ? and created_at::date between ? and ?
group by priority
order by case priority when 'urgent' then 1 when 'high' then 2 when 'normal' then 3 else 4 end
"""


def sla_by_priority(con: duckdb.DuckDBPyConnection, tenant: str, start: date, end: date) -> pd.DataFrame:
    return _df(con, SLA_BY_PRIORITY_SQL, [tenant, start, end])


AGENT_WORKLOAD_SQL = """
select coalesce(agent_name, agent_id) as agent, team, open_tickets, open_workload_points, solved_30d,
       median_first_response_minutes, median_resolution_hours, sla_breaches_30d
from agent_workload where tenant_id = ? order by open_workload_points desc, agent
"""


def agent_workload(con: duckdb.DuckDBPyConnection, tenant: str) -> pd.DataFrame:
    return _df(con, AGENT_WORKLOAD_SQL, [tenant])


# --- retention ---------------------------------------------------------------------------

CHURN_RISK_LIST_SQL = {
    (value, with_band): f"""
select p.customer_id, c.first_name, c.last_name, c.email, c.lifecycle_stage, c.mrr, c.total_revenue,
       p.{value} as churn_probability, {_band("p." + value, with_band).replace("risk_band", "p.risk_band")} as risk_band,
       to_json(p.reasons)::varchar as reasons, p.model_version, p.scored_at
from churn_predictions p
left join customer_360 c on c.tenant_id = p.tenant_id and c.customer_id = p.customer_id
where p.tenant_id = ? and (? is null or {_band("p." + value, with_band).replace("risk_band", "p.risk_band")} = ?)
order by p.{value} desc, p.customer_id
limit ?
"""
    for value in SCORE_VALUE_COLUMNS["churn_predictions"]
    for with_band in (True, False)
}


def churn_risk_list(
    con: duckdb.DuckDBPyConnection,
    tenant: str,
    value: str,
    with_band: bool,
    band: str | None,
    limit: int = 100,
) -> pd.DataFrame:
    return _df(con, CHURN_RISK_LIST_SQL[(value, with_band)], [tenant, band, band, limit])


SCORE_DISTRIBUTION_SQL = {
    (table, value): f"""
select floor({value} * 20) / 20 as bucket, count(*) as customers
from {table} where tenant_id = ? group by all order by bucket
"""
    for table, value in SCORE_VARIANTS
    if table != "customer_value"
}


def score_distribution(con: duckdb.DuckDBPyConnection, tenant: str, table: str, value: str) -> pd.DataFrame:
    """Customers per 0.05-wide bucket of a probability score."""
    return _df(con, SCORE_DISTRIBUTION_SQL[(table, value)], [tenant])


HEALTH_DISTRIBUTION_SQL = """
select health_score, health_band, count(*) as customers
from customer_health_inputs where tenant_id = ? group by all order by health_score
"""


def health_distribution(con: duckdb.DuckDBPyConnection, tenant: str) -> pd.DataFrame:
    return _df(con, HEALTH_DISTRIBUTION_SQL, [tenant])


VALUE_SUMMARY_SQL = {
    value: f"""
select count(*) as customers, sum({value}) as total_value, median({value}) as median_value,
       quantile_cont({value}, 0.9) as p90_value, any_value(model_version) as model_version,
       max(scored_at) as scored_at
from customer_value where tenant_id = ?
"""
    for value in SCORE_VALUE_COLUMNS["customer_value"]
}


def value_summary(con: duckdb.DuckDBPyConnection, tenant: str, value: str) -> pd.DataFrame:
    return _df(con, VALUE_SUMMARY_SQL[value], [tenant])


TOP_VALUE_SQL = {
    value: f"""
select v.customer_id, c.first_name, c.last_name, c.lifecycle_stage, c.total_revenue,
       v.{value} as predicted_value, to_json(v.reasons)::varchar as reasons, v.model_version
from customer_value v
left join customer_360 c on c.tenant_id = v.tenant_id and c.customer_id = v.customer_id
where v.tenant_id = ? order by v.{value} desc, v.customer_id limit ?
"""
    for value in SCORE_VALUE_COLUMNS["customer_value"]
}


def top_value(con: duckdb.DuckDBPyConnection, tenant: str, value: str, limit: int = 25) -> pd.DataFrame:
    return _df(con, TOP_VALUE_SQL[value], [tenant, limit])


RFM_SEGMENTS_SQL = """
select coalesce(rfm_segment, '(no orders)') as rfm_segment, count(*) as customers, sum(total_revenue) as revenue
from customer_360 where tenant_id = ? group by all order by customers desc
"""


def rfm_segments(con: duckdb.DuckDBPyConnection, tenant: str) -> pd.DataFrame:
    return _df(con, RFM_SEGMENTS_SQL, [tenant])


# --- segments ----------------------------------------------------------------------------

SEGMENT_OPTIONS_SQL = """
select 'lifecycle_stage' as field, lifecycle_stage as value, count(*) as customers from customer_360
where tenant_id = ? and lifecycle_stage is not null group by all
union all
select 'country', country, count(*) from customer_360 where tenant_id = ? and country is not null group by all
union all
select 'rfm_segment', rfm_segment, count(*) from customer_360 where tenant_id = ? and rfm_segment is not null
group by all
union all
select 'tag', t, count(*) from (select unnest(tags) as t from customer_360 where tenant_id = ?) group by all
order by field, customers desc
"""


def segment_options(con: duckdb.DuckDBPyConnection, tenant: str) -> pd.DataFrame:
    """The values each segment filter can take for this tenant, with how many customers have them."""
    return _df(con, SEGMENT_OPTIONS_SQL, [tenant, tenant, tenant, tenant])


SEGMENT_SIZE_SQL = f"select count(*) as customers from ({SEGMENT_MEMBERS_SQL})"

SEGMENT_SAMPLE_SQL = f"""
select c.customer_id, c.first_name, c.last_name, c.email, c.country, c.lifecycle_stage, c.rfm_segment,
       c.total_revenue, c.order_count, c.last_activity_at
from ({SEGMENT_MEMBERS_SQL}) m join customer_360 c on c.tenant_id = ? and c.customer_id = m.customer_id
order by c.total_revenue desc nulls last, c.customer_id
limit ?
"""

# Members who consented to marketing on ``channel``: consent fails closed, so a missing
# consent record, 'unknown' and 'withdrawn' all exclude the person.
SEGMENT_EXPORT_SQL = f"""
select c.customer_id, c.first_name, c.last_name,
       case ? when 'email' then c.email when 'push' then c.customer_id else c.phone end as contact,
       ? as channel
from ({SEGMENT_MEMBERS_SQL}) m join customer_360 c on c.tenant_id = ? and c.customer_id = m.customer_id
where ((c.consents::json -> ?::varchar) ->> 'marketing') = 'granted'
order by c.customer_id
"""


def segment_size(con: duckdb.DuckDBPyConnection, tenant: str, filters: SegmentFilters) -> pd.DataFrame:
    return _df(con, SEGMENT_SIZE_SQL, segment_params(tenant, filters))


def segment_sample(
    con: duckdb.DuckDBPyConnection, tenant: str, filters: SegmentFilters, limit: int = 20
) -> pd.DataFrame:
    return _df(con, SEGMENT_SAMPLE_SQL, [*segment_params(tenant, filters), tenant, limit])


def segment_export(
    con: duckdb.DuckDBPyConnection, tenant: str, filters: SegmentFilters, channel: str
) -> pd.DataFrame:
    if channel not in CONSENT_CHANNELS:
        raise ValueError(f"unknown channel {channel!r}")
    return _df(con, SEGMENT_EXPORT_SQL, [channel, channel, *segment_params(tenant, filters), tenant, channel])


PUBLISHED_SEGMENTS_SQL = """
select s.segment_id, s.name, s.description, count(m.customer_id) as members
from segments s left join segment_members m using (tenant_id, segment_id)
where s.tenant_id = ? group by all order by s.segment_id
"""


def published_segments(con: duckdb.DuckDBPyConnection, tenant: str) -> pd.DataFrame:
    return _df(con, PUBLISHED_SEGMENTS_SQL, [tenant])


# --- data and models ---------------------------------------------------------------------

FRESHNESS_SQL = """
select entity, tenant_id = '*' as shared_file, files, rows_in, rows_loaded, rows_quarantined, rows_duplicate,
       last_loaded_at
from source_freshness where tenant_id in (?, '*') order by entity, shared_file
"""


def freshness(con: duckdb.DuckDBPyConnection, tenant: str) -> pd.DataFrame:
    return _df(con, FRESHNESS_SQL, [tenant])


QUARANTINE_SQL = """
select entity, reason, tenant_id = '*' as unattributed, quarantined_rows, files, last_quarantined_at
from quarantine_reasons where tenant_id = ? or (? and tenant_id = '*')
order by quarantined_rows desc
"""


def quarantine(con: duckdb.DuckDBPyConnection, tenant: str, include_unattributed: bool) -> pd.DataFrame:
    """Quarantined rows of the tenant; rows whose tenant is unreadable only for admins."""
    return _df(con, QUARANTINE_SQL, [tenant, include_unattributed])


IDENTITY_SUMMARY_SQL = """
select
    (select count(*) from customer_360 where tenant_id = ?) as customers,
    (select count(*) from customer_identifiers where tenant_id = ?) as identifiers,
    (select count(*) from customer_merges where tenant_id = ?) as merge_records
"""


def identity_summary(con: duckdb.DuckDBPyConnection, tenant: str) -> pd.DataFrame:
    return _df(con, IDENTITY_SUMMARY_SQL, [tenant, tenant, tenant])


IDENTIFIERS_BY_TYPE_SQL = """
select identifier_type, count(*) as identifiers, count(distinct customer_id) as customers
from customer_identifiers where tenant_id = ? group by all order by identifiers desc
"""


def identifiers_by_type(con: duckdb.DuckDBPyConnection, tenant: str) -> pd.DataFrame:
    return _df(con, IDENTIFIERS_BY_TYPE_SQL, [tenant])


RECORDS_PER_CUSTOMER_SQL = """
select least(source_records, 10) as source_records, count(*) as customers
from customer_360 where tenant_id = ? group by all order by source_records
"""


def records_per_customer(con: duckdb.DuckDBPyConnection, tenant: str) -> pd.DataFrame:
    """How many source records were resolved into each customer (10 means 10 or more)."""
    return _df(con, RECORDS_PER_CUSTOMER_SQL, [tenant])


MERGES_BY_RULE_SQL = """
select coalesce(rule, '(none)') as rule, coalesce(change_type, 'merge') as change_type, count(*) as changes
from customer_merges where tenant_id = ? group by all order by changes desc
"""
MERGES_BY_RULE_NO_TYPE_SQL = """
select coalesce(rule, '(none)') as rule, 'merge' as change_type, count(*) as changes
from customer_merges where tenant_id = ? group by all order by changes desc
"""


def merges_by_rule(con: duckdb.DuckDBPyConnection, tenant: str, has_change_type: bool) -> pd.DataFrame:
    return _df(con, MERGES_BY_RULE_SQL if has_change_type else MERGES_BY_RULE_NO_TYPE_SQL, [tenant])


BLOCKED_IDENTIFIERS_SQL = """
select identifier_type, reason, count(*) as identifiers
from identity_blocked_identifiers where tenant_id = ? group by all order by identifiers desc
"""


def blocked_identifiers(con: duckdb.DuckDBPyConnection, tenant: str) -> pd.DataFrame:
    return _df(con, BLOCKED_IDENTIFIERS_SQL, [tenant])


# Model evaluation tables, once the ML issue publishes them (docs/dashboards.md). Models
# may be trained per tenant (a tenant_id column) or across tenants (none: no tenant data).
MODEL_METRICS_SQL = "select * exclude (tenant_id) from model_metrics where tenant_id = ?"
MODEL_METRICS_GLOBAL_SQL = "select * from model_metrics where ? is not null"
MODEL_CALIBRATION_SQL = "select * exclude (tenant_id) from model_calibration where tenant_id = ?"
MODEL_CALIBRATION_GLOBAL_SQL = "select * from model_calibration where ? is not null"


def model_metrics(con: duckdb.DuckDBPyConnection, tenant: str, per_tenant: bool) -> pd.DataFrame:
    return _df(con, MODEL_METRICS_SQL if per_tenant else MODEL_METRICS_GLOBAL_SQL, [tenant])


def model_calibration(con: duckdb.DuckDBPyConnection, tenant: str, per_tenant: bool) -> pd.DataFrame:
    """Mean predicted probability vs observed rate per bin: ``predicted``/``observed`` (ml/evaluate.py)."""
    return _df(con, MODEL_CALIBRATION_SQL if per_tenant else MODEL_CALIBRATION_GLOBAL_SQL, [tenant])


SCORE_SUMMARY_SQL = {
    (table, value): f"""
select model_version, count(*) as customers, avg({value}) as mean_score, max(scored_at) as scored_at
from {table} where tenant_id = ? group by all order by model_version
"""
    for table, value in SCORE_VARIANTS
}


def score_summary(con: duckdb.DuckDBPyConnection, tenant: str, table: str, value: str) -> pd.DataFrame:
    return _df(con, SCORE_SUMMARY_SQL[(table, value)], [tenant])
