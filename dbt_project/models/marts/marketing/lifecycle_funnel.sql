{#- The lifecycle funnel per tenant: how many customers reached each stage, how many of
    them went on to reach the next one, the conversion rate, and the median days it took. -#}
with

lifecycle as not materialized (select * from {{ ref('customer_lifecycle') }}),

-- Row-wise list functions instead of windows over each customer's seven stages: a window
-- partitioned by customer sorted 10M rows at the large scale.
stage_lists as (
    select
        tenant_id,
        [visitor_at, lead_at, mql_at, sql_at, opportunity_at, customer_at, churned_at] as entered
    from lifecycle
),

with_next as (
    select
        tenant_id,
        ['Visitor', 'Lead', 'MQL', 'SQL', 'Opportunity', 'Customer', 'Churned'][stage_order] as stage,
        stage_order,
        entered[stage_order] as entered_at,
        -- the next stage actually reached later (stages can be skipped, e.g. Lead -> Customer)
        list_min(entered[stage_order + 1:]) as next_entered_at,
        entered[stage_order + 1] as next_stage_entered_at
    from (select tenant_id, entered, unnest(range(1, 8))::integer as stage_order from stage_lists)
),

final as (
    select
        tenant_id,
        stage,
        stage_order,
        count(entered_at) as reached,
        count(entered_at) filter (where next_stage_entered_at is not null) as reached_next_stage,
        count(entered_at) filter (where next_stage_entered_at is not null)::double
            / nullif(count(entered_at), 0) as conversion_rate,
        median(date_diff('second', entered_at, next_entered_at) / 86400.0)
            filter (where entered_at is not null and next_entered_at >= entered_at) as median_days_in_stage
    from with_next
    group by tenant_id, stage, stage_order
)

select * from final
