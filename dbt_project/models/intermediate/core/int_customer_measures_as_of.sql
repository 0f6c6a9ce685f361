{#- Per customer, the columns of customer_360 that move with every load because they are
    relative to the tenant's as-of time or rank a customer against the others: RFM ranks
    and recency, the 7/30/90-day windows (over recent events and sessions only, macro
    earliest_window_start, D33), SLA breaches of tickets still open, the last activity,
    the RFM segment and the tags. customer_360 is a view of the customer facts, the
    lifecycle and this table.

    Rebuilt in full every run (1.4M narrow rows in about 2 s at the large scale): these
    values change for a third of the customers after every load, and rewriting those rows
    in a wide customer_360 table cost 5-6 s of a large rebuild (D38). -#}
{{ config(materialized='table') }}
with

facts as not materialized (select * from {{ ref('int_customer_facts_summarized') }}),
lifecycle as not materialized (select * from {{ ref('customer_lifecycle') }}),
as_of as not materialized (select * from {{ ref('int_tenants_as_of') }}),

-- The tables' plain columns against literals, so the scans skip what is too old to count.
recent_events as (
    select
        events.tenant_id,
        events.customer_id,
        count(*) filter (where events.occurred_at > as_of.as_of_at - interval 7 days) as events_7d,
        count(*) filter (where events.occurred_at > as_of.as_of_at - interval 30 days) as events_30d,
        count(*) filter (where events.occurred_at > as_of.as_of_at - interval 90 days) as events_90d
    from {{ ref('fct_events') }} as events
    inner join as_of on events.tenant_id = as_of.tenant_id
    where events.occurred_at > {{ earliest_window_start(90) }} and events.customer_id is not null
    group by all
),

recent_sessions as (
    select
        sessions.tenant_id,
        sessions.customer_id,
        count(*) filter (where sessions.started_at > as_of.as_of_at - interval 30 days) as sessions_30d
    from {{ ref('fct_sessions') }} as sessions
    inner join as_of on sessions.tenant_id = as_of.tenant_id
    where sessions.started_at > {{ earliest_window_start(30) }} and sessions.customer_id is not null
    group by all
),

-- Ties are ranked by customer_id, so the same data gives the same scores in every build.
-- Totals of engagement and RFM count only where the tenant has an as-of time (it always
-- has: int_tenants_as_of has a row per tenant).
rfm as (
    select
        facts.tenant_id,
        facts.customer_id,
        date_diff('day', facts.last_order_at, as_of.as_of_at) as recency_days,
        6 - ntile(5) over (partition by facts.tenant_id order by facts.last_order_at desc, facts.customer_id) as recency_score_raw,
        ntile(5) over (partition by facts.tenant_id order by facts.order_count, facts.customer_id) as frequency_score,
        ntile(5) over (partition by facts.tenant_id order by facts.total_revenue, facts.customer_id) as monetary_score
    from facts
    inner join as_of on facts.tenant_id = as_of.tenant_id
    where facts.order_count > 0
),

joined as (
    select
        facts.tenant_id,
        facts.customer_id,
        rfm.recency_days,
        rfm.recency_score_raw as rfm_recency_score,
        rfm.frequency_score as rfm_frequency_score,
        rfm.monetary_score as rfm_monetary_score,
        facts.sla_breaches_settled
            + coalesce(len(list_filter(facts.sla_breach_due_at, due -> as_of.as_of_at > due)), 0) as sla_breaches,
        case when as_of.as_of_tenant_id is not null then facts.sessions_count else 0 end as sessions_count,
        coalesce(recent_sessions.sessions_30d, 0) as sessions_30d,
        case when as_of.as_of_tenant_id is not null then facts.last_seen_at end as last_seen_at,
        coalesce(recent_events.events_7d, 0) as events_7d,
        coalesce(recent_events.events_30d, 0) as events_30d,
        coalesce(recent_events.events_90d, 0) as events_90d,
        greatest(case when as_of.as_of_tenant_id is not null then facts.last_seen_at end, facts.last_order_at,
            facts.last_ticket_at, facts.last_campaign_touch_at, facts.latest_nps_at) as last_activity_at,
        -- what the tags read besides the columns above
        lifecycle.lifecycle_stage,
        facts.active_subscriptions,
        facts.past_due_subscriptions,
        facts.open_tickets,
        facts.latest_nps_score,
        facts.email_marketing_consent,
        facts.user_id,
        facts.source_records
    from facts
    left join (select tenant_id as as_of_tenant_id, as_of_at from as_of) as as_of
        on facts.tenant_id = as_of.as_of_tenant_id
    left join lifecycle using (tenant_id, customer_id)
    left join rfm using (tenant_id, customer_id)
    left join recent_events using (tenant_id, customer_id)
    left join recent_sessions using (tenant_id, customer_id)
),

computed as (
    select
        *,
        case
            when rfm_recency_score is null then null
            when rfm_recency_score >= 4 and rfm_frequency_score >= 4 then 'champions'
            when rfm_recency_score >= 3 and rfm_frequency_score >= 3 then 'loyal'
            when rfm_recency_score >= 4 then 'new_or_promising'
            when rfm_recency_score <= 2 and rfm_frequency_score >= 3 then 'at_risk'
            else 'hibernating'
        end as rfm_segment,
        list_filter([
            case when lifecycle_stage = 'Customer' and rfm_monetary_score = 5 then 'high_value' end,
            case when active_subscriptions > 0 then 'subscriber' end,
            case when past_due_subscriptions > 0 then 'payment_issue' end,
            case when open_tickets > 0 then 'open_ticket' end,
            case when sla_breaches > 0 then 'sla_breached' end,
            case when latest_nps_score >= 9 then 'promoter' end,
            case when latest_nps_score <= 6 then 'detractor' end,
            case when email_marketing_consent = 'granted' then 'email_opt_in' end,
            case when events_30d = 0 and lifecycle_stage in ('Customer', 'Opportunity') then 'inactive_30d' end,
            case when user_id is null and source_records = 0 then 'anonymous' end
        ], tag -> tag is not null) as tags
    from joined
),

final as (
    select
        tenant_id,
        customer_id,
        recency_days,
        rfm_recency_score,
        rfm_frequency_score,
        rfm_monetary_score,
        sla_breaches,
        sessions_count,
        sessions_30d,
        last_seen_at,
        events_7d,
        events_30d,
        events_90d,
        last_activity_at,
        rfm_segment,
        tags
    from computed
)

select * from final
