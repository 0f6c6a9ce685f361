{#- Quarter forecast per tenant, for the quarter of the as-of time and the next one:
      forecast = won so far in the quarter
               + weighted open pipeline whose close_date falls in the quarter
               + run rate: the trailing-90-day daily average of completed order revenue, times the
                 days left in the quarter (self-serve revenue the pipeline does not hold).
    Weighted = amount x the rep's probability (or the stage default). -#}
with

opportunities as not materialized (select * from {{ ref('opportunities') }}),
orders as not materialized (select * from {{ ref('stg_crm__orders') }}),
as_of as not materialized (select * from {{ ref('int_tenants_as_of') }}),

quarters as (
    select
        tenant_id,
        as_of_at,
        unnest([date_trunc('quarter', as_of_at), date_trunc('quarter', as_of_at) + interval 3 months])::date
            as quarter_start
    from as_of
),

bounds as (
    select
        *,
        (quarter_start + interval 3 months)::date as quarter_end,
        greatest(0, date_diff('day', greatest(as_of_at::date, quarter_start), (quarter_start + interval 3 months)::date))
            as days_left
    from quarters
),

won as (
    select bounds.tenant_id, bounds.quarter_start, coalesce(sum(opportunities.amount), 0) as won_amount
    from bounds
    left join opportunities
        on opportunities.tenant_id = bounds.tenant_id and opportunities.is_won
        and opportunities.closed_at >= bounds.quarter_start and opportunities.closed_at < bounds.quarter_end
    group by all
),

weighted as (
    select bounds.tenant_id, bounds.quarter_start,
        coalesce(sum(opportunities.weighted_amount), 0) as weighted_pipeline,
        coalesce(sum(opportunities.amount), 0) as open_pipeline
    from bounds
    left join opportunities
        on opportunities.tenant_id = bounds.tenant_id and not opportunities.is_closed
        and opportunities.close_date >= bounds.quarter_start and opportunities.close_date < bounds.quarter_end
    group by all
),

run_rate as (
    select as_of.tenant_id,
        coalesce(sum(orders.amount), 0) / 90.0 as daily_run_rate
    from as_of
    left join orders
        on orders.tenant_id = as_of.tenant_id and orders.status = 'completed'
        and orders.ordered_at > as_of.as_of_at - interval 90 days and orders.ordered_at <= as_of.as_of_at
    group by all
),

final as (
    select
        bounds.tenant_id,
        bounds.quarter_start,
        bounds.quarter_end,
        bounds.days_left,
        won.won_amount,
        weighted.open_pipeline,
        weighted.weighted_pipeline,
        run_rate.daily_run_rate,
        run_rate.daily_run_rate * bounds.days_left as run_rate_amount,
        won.won_amount + weighted.weighted_pipeline + run_rate.daily_run_rate * bounds.days_left as forecast_amount
    from bounds
    inner join won using (tenant_id, quarter_start)
    inner join weighted using (tenant_id, quarter_start)
    inner join run_rate using (tenant_id)
)

select * from final
