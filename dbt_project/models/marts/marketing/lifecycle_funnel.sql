{#- The lifecycle funnel per tenant: how many customers reached each stage, how many of
    them went on to reach the next one, the conversion rate, and the median days it took. -#}
with

lifecycle as not materialized (select * from {{ ref('customer_lifecycle') }}),

stage_times as (
    select
        tenant_id,
        customer_id,
        unnest(['Visitor', 'Lead', 'MQL', 'SQL', 'Opportunity', 'Customer', 'Churned']) as stage,
        unnest([1, 2, 3, 4, 5, 6, 7]) as stage_order,
        unnest([visitor_at, lead_at, mql_at, sql_at, opportunity_at, customer_at, churned_at]) as entered_at
    from lifecycle
),

with_next as (
    select
        *,
        -- the next stage actually reached later (stages can be skipped, e.g. Lead -> Customer)
        min(entered_at) over (
            partition by tenant_id, customer_id order by stage_order
            rows between 1 following and unbounded following
        ) as next_entered_at,
        lead(entered_at) over (partition by tenant_id, customer_id order by stage_order) as next_stage_entered_at
    from stage_times
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
