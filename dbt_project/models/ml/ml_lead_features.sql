{#- Lead-scoring features, one row per lead and point in time (docs/ml.md).

    Training rows ('train'): each lead as it stood `ml_lead_qualify_days` after it was
    created (its scoring point), for leads whose scoring point is on or before the
    cut-off and that were still open then; features read only what happened before the
    scoring point, the label the `ml_horizon_days` after it. Scoring rows ('score'):
    every lead open at the tenant's as-of time, features up to that time.
    Lifecycle statuses (MQL, SQL) are not features: they are set by reps who already
    know how a deal is going, and in the generated data MQL is drawn from the outcome. -#}
{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        pre_hook="{{ ml_datasets_cleared() }}",
    )
}}
-- Ordering only (nothing is read from it): after the customer measures (the last table of
-- customer_360), so that a load's chain to it runs first. dbt starts the shallowest ready
-- nodes first: after the customer facts these three held both threads while customer_360
-- waited (12-15 s of a large rebuild). Not after the view itself: `dbt build` would hold
-- them until its tests pass.
-- depends_on: {{ ref('int_customer_measures_as_of') }}
with

leads as not materialized (select * from {{ ref('stg_crm__leads') }}),
resolved as not materialized (
    select * from {{ ref('int_identity_records_resolved') }} where entity = 'leads'
),
events as not materialized (
    select tenant_id, customer_id, occurred_at from {{ ref('fct_events') }} where customer_id is not null
),
touches as not materialized (select * from {{ ref('int_campaign_touches_collected') }}),
cutoffs as not materialized (select * from {{ ref('ml_cutoffs') }}),

lead_points as (
    select
        leads.tenant_id,
        leads.lead_id,
        leads.source_system,
        resolved.customer_id,
        leads.created_at,
        leads.industry,
        leads.employee_count,
        leads.job_title,
        leads.lead_source,
        leads.country_code,
        leads.sql_at,
        leads.converted_at,
        leads.status,
        leads.owner_id,
        cutoffs.cutoff_at,
        cutoffs.as_of_at,
        leads.created_at + to_days({{ var('ml_lead_qualify_days') }}) as qualified_at
    from leads
    inner join cutoffs on leads.tenant_id = cutoffs.tenant_id
    left join resolved
        on leads.tenant_id = resolved.tenant_id
        and leads.source_system = resolved.source_system
        and leads.lead_id = resolved.record_id
    where leads.created_at is not null
),

{%- set target_at = 'sql_at' if var('ml_lead_target') == 'sql' else 'converted_at' %}

points as (
    select * from (
        -- training: the lead at its scoring point, open then
        select *, 'train' as dataset, qualified_at as point_at
        from lead_points
        where qualified_at <= cutoff_at
            and ({{ target_at }} is null or {{ target_at }} > qualified_at)
        union all
        -- scoring: open leads now (the current status is known now)
        select *, 'score' as dataset, as_of_at as point_at
        from lead_points
        where created_at <= as_of_at
            and converted_at is null
            and coalesce(status, 'new') not in ('converted', 'disqualified')
    )
    where {{ ml_datasets_filter() }}
),

windows as (
    select
        *,
        created_at - to_days({{ var('ml_lead_lookback_days') }}) as window_start_at,
        least(point_at, qualified_at) as window_end_at
    from points
),

-- The events inside some window of their customer, found with one row per customer:
-- joined straight to the windows, every event of a lead's customer met each of its
-- windows (the model's query 4.1 s at the large scale, against 3.0 s).
customer_spans as (
    select tenant_id, customer_id, min(window_start_at) as span_start_at, max(window_end_at) as span_end_at
    from windows
    group by all
),

window_events as (
    select events.*
    from events
    inner join customer_spans
        on events.tenant_id = customer_spans.tenant_id
        and events.customer_id = customer_spans.customer_id
        and events.occurred_at >= customer_spans.span_start_at
        and events.occurred_at < customer_spans.span_end_at
),

engagement as (
    select
        windows.dataset,
        windows.tenant_id,
        windows.lead_id,
        windows.source_system,
        count(*) as web_events
    from windows
    inner join window_events as events
        on windows.tenant_id = events.tenant_id
        and windows.customer_id = events.customer_id
        and events.occurred_at >= windows.window_start_at
        and events.occurred_at < windows.window_end_at
    group by all
),

marketing as (
    select
        windows.dataset,
        windows.tenant_id,
        windows.lead_id,
        windows.source_system,
        count(*) filter (where touches.touch_type = 'email_opened') as email_opens,
        count(*) filter (where touches.touch_type = 'email_clicked') as email_clicks,
        count(*) filter (where touches.touch_type = 'member_added') as campaign_touches
    from windows
    inner join touches
        on windows.tenant_id = touches.tenant_id
        and windows.customer_id = touches.customer_id
        and touches.touched_at >= windows.window_start_at
        and touches.touched_at < windows.window_end_at
    group by all
),

final as (
    select
        windows.tenant_id,
        windows.lead_id,
        windows.source_system,
        windows.customer_id,
        windows.dataset,
        windows.point_at,
        windows.cutoff_at,
        windows.created_at,
        windows.owner_id,
        case when windows.dataset = 'score' then windows.status end as stage,
        coalesce(windows.industry, 'unknown') as industry,
        windows.employee_count,
        case
            when windows.employee_count is null then 'unknown'
            when windows.employee_count <= 10 then '1-10'
            when windows.employee_count <= 50 then '11-50'
            when windows.employee_count <= 200 then '51-200'
            when windows.employee_count <= 1000 then '201-1000'
            when windows.employee_count <= 5000 then '1001-5000'
            else '5000+'
        end as company_size,
        case
            when windows.job_title is null then 'unknown'
            when regexp_matches(windows.job_title, '(^|\s)(VP|CEO|COO|CFO|CTO|Chief|Founder|President)(\s|$)')
                then 'executive'
            when regexp_matches(windows.job_title, '^(Director|Head)\b') then 'director'
            when regexp_matches(windows.job_title, 'Manager') then 'manager'
            when regexp_matches(windows.job_title, '^(Senior|Lead)\b|Team Lead') then 'senior'
            else 'individual'
        end as seniority,
        coalesce(windows.lead_source, 'unknown') as lead_source,
        coalesce(engagement.web_events, 0) as web_events,
        coalesce(marketing.email_opens, 0) as email_opens,
        coalesce(marketing.email_clicks, 0) as email_clicks,
        coalesce(marketing.campaign_touches, 0) as campaign_touches,
        case
            when windows.dataset = 'score' then null
            else windows.{{ target_at }} is not null
                and windows.{{ target_at }} <= windows.point_at + to_days({{ var('ml_horizon_days') }})
        end as label
    from windows
    left join engagement
        on windows.dataset = engagement.dataset
        and windows.tenant_id = engagement.tenant_id
        and windows.lead_id = engagement.lead_id
        and windows.source_system = engagement.source_system
    left join marketing
        on windows.dataset = marketing.dataset
        and windows.tenant_id = marketing.tenant_id
        and windows.lead_id = marketing.lead_id
        and windows.source_system = marketing.source_system
)

select * from final
