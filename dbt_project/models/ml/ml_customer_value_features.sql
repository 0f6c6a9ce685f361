{#- Purchase history summaries for BG/NBD + Gamma-Gamma, one row per customer and point.

    frequency: repeat purchase days (days with an order, after the first); recency: days
    from the first to the last purchase day; T: days from the first purchase day to the
    point; monetary: mean value of the repeat purchase days. Cancelled and refunded
    orders are not purchases. Training rows ('train') summarise orders up to the
    cut-off and carry what happened in the `ml_horizon_days` after it (holdout_*), to
    check the model's forecast; scoring rows ('score') summarise orders up to now. -#}
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

orders as not materialized (
    select orders.tenant_id, resolved.customer_id, orders.ordered_at, orders.amount
    from {{ ref('stg_crm__orders') }} as orders
    inner join {{ ref('int_identity_records_resolved') }} as resolved
        on resolved.entity = 'orders'
        and orders.tenant_id = resolved.tenant_id
        and orders.source_system = resolved.source_system
        and orders.order_id = resolved.record_id
    where resolved.customer_id is not null
        and orders.ordered_at is not null
        and coalesce(orders.status, 'completed') not in ('cancelled', 'refunded')
),
cutoffs as not materialized (select * from {{ ref('ml_cutoffs') }}),

points as (
    select * from (
        select tenant_id, 'train' as dataset, cutoff_at as point_at, cutoff_at, as_of_at from cutoffs
        union all
        select tenant_id, 'score' as dataset, as_of_at as point_at, cutoff_at, as_of_at from cutoffs
    )
    where {{ ml_datasets_filter() }}
),

purchase_days as (
    select
        points.dataset,
        points.point_at,
        points.cutoff_at,
        orders.tenant_id,
        orders.customer_id,
        date_trunc('day', orders.ordered_at) as purchase_day,
        sum(orders.amount) as day_value
    from points
    inner join orders
        on points.tenant_id = orders.tenant_id
        and orders.ordered_at <= points.point_at
    group by all
),

numbered as (
    select *, row_number() over (partition by dataset, tenant_id, customer_id order by purchase_day) as day_number
    from purchase_days
),

summaries as (
    select
        dataset,
        tenant_id,
        customer_id,
        any_value(point_at) as point_at,
        any_value(cutoff_at) as cutoff_at,
        count(*) - 1 as frequency,
        date_diff('day', min(purchase_day), max(purchase_day)) as recency,
        date_diff('day', min(purchase_day), date_trunc('day', any_value(point_at))) as t,
        coalesce(avg(day_value) filter (where day_number > 1), 0) as monetary,
        sum(day_value) as total_value
    from numbered
    group by all
),

holdout as (
    select
        summaries.tenant_id,
        summaries.customer_id,
        count(distinct date_trunc('day', orders.ordered_at)) as holdout_purchases,
        sum(orders.amount) as holdout_value
    from summaries
    inner join orders
        on summaries.tenant_id = orders.tenant_id
        and summaries.customer_id = orders.customer_id
        and orders.ordered_at > summaries.point_at
        and orders.ordered_at <= summaries.point_at + to_days({{ var('ml_horizon_days') }})
    where summaries.dataset = 'train'
    group by all
),

final as (
    select
        summaries.tenant_id,
        summaries.customer_id,
        summaries.dataset,
        summaries.point_at,
        summaries.cutoff_at,
        summaries.frequency,
        summaries.recency::double as recency,
        summaries.t::double as t,
        summaries.monetary,
        summaries.total_value,
        case when summaries.dataset = 'train' then coalesce(holdout.holdout_purchases, 0) end as holdout_purchases,
        case when summaries.dataset = 'train' then coalesce(holdout.holdout_value, 0) end as holdout_value
    from summaries
    -- Equalities only (the case above keeps holdout figures to training rows): a constant
    -- test on one side in the join condition made DuckDB run a nested loop.
    left join holdout
        on summaries.tenant_id = holdout.tenant_id
        and summaries.customer_id = holdout.customer_id
)

select * from final
