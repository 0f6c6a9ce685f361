{#- Churn features, one row per subscription and point in time (docs/ml.md).

    Training rows ('train'): subscriptions active at the cut-off (started before it, not
    cancelled by then, per the versions recorded up to it); the label is whether the
    subscription is cancelled within `ml_horizon_days` after the cut-off, or its customer
    goes silent (no event and no order in that window: the documented inactivity rule,
    on when `ml_churn_inactivity_rule` is true). Scoring rows ('score'): subscriptions
    active now, features as of now. Every feature reads only data up to its point. -#}
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

subscription_versions as not materialized (select * from {{ ref('ml_subscription_versions') }}),
resolved as not materialized (
    select * from {{ ref('int_identity_records_resolved') }} where entity = 'subscriptions'
),
events as not materialized (
    select tenant_id, customer_id, occurred_at from {{ ref('fct_events') }} where customer_id is not null
),
tickets as not materialized (
    select * from {{ ref('int_tickets_sla_measured') }} where customer_id is not null
),
nps as not materialized (
    select nps.tenant_id, resolved_nps.customer_id, nps.score, nps.responded_at
    from {{ ref('stg_crm__nps_responses') }} as nps
    inner join {{ ref('int_identity_records_resolved') }} as resolved_nps
        on resolved_nps.entity = 'nps_responses'
        and nps.tenant_id = resolved_nps.tenant_id
        and nps.source_system = resolved_nps.source_system
        and nps.nps_response_id = resolved_nps.record_id
    where nps.survey_type = 'nps' and nps.score is not null and resolved_nps.customer_id is not null
),
orders as not materialized (
    select orders.tenant_id, resolved_orders.customer_id, orders.ordered_at
    from {{ ref('stg_crm__orders') }} as orders
    inner join {{ ref('int_identity_records_resolved') }} as resolved_orders
        on resolved_orders.entity = 'orders'
        and orders.tenant_id = resolved_orders.tenant_id
        and orders.source_system = resolved_orders.source_system
        and orders.order_id = resolved_orders.record_id
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

-- each subscription as its latest version recorded up to the point
state_at_point as (
    select
        points.dataset,
        points.point_at,
        points.cutoff_at,
        points.as_of_at,
        versions.tenant_id,
        versions.source_system,
        versions.subscription_id,
        versions.status,
        versions.mrr,
        versions.started_at,
        versions.cancelled_at
    from points
    inner join subscription_versions as versions
        on points.tenant_id = versions.tenant_id
        and versions.updated_at <= points.point_at
    qualify row_number() over (
        partition by points.dataset, versions.tenant_id, versions.source_system, versions.subscription_id
        order by versions.updated_at desc, versions.loaded_at desc
    ) = 1
),

active as (
    select state_at_point.*, resolved.customer_id
    from state_at_point
    inner join resolved
        on state_at_point.tenant_id = resolved.tenant_id
        and state_at_point.source_system = resolved.source_system
        and state_at_point.subscription_id = resolved.record_id
    where state_at_point.started_at <= state_at_point.point_at
        and state_at_point.status in ('active', 'past_due', 'trialing')
        and (state_at_point.cancelled_at is null or state_at_point.cancelled_at > state_at_point.point_at)
        and resolved.customer_id is not null
),

customers as (
    select distinct dataset, tenant_id, customer_id, point_at from active
),

usage as (
    select
        customers.dataset,
        customers.tenant_id,
        customers.customer_id,
        count(*) filter (where events.occurred_at > customers.point_at - interval 90 days) as events_last_90d,
        count(*) filter (where events.occurred_at <= customers.point_at - interval 90 days) as events_prior_90d,
        max(events.occurred_at) as last_event_at
    from customers
    inner join events
        on customers.tenant_id = events.tenant_id
        and customers.customer_id = events.customer_id
        and events.occurred_at > customers.point_at - interval 180 days
        and events.occurred_at <= customers.point_at
    group by all
),

first_events as (
    select tenant_id, customer_id, min(occurred_at) as first_event_at
    from events
    group by all
),

ever_used as (
    -- customers with any product event up to the point: for the others usage is unknown
    -- (their web identity is not linked to the subscription's customer), not zero. Through
    -- each customer's first event: joining every earlier event and keeping the distinct
    -- customers instead made the model's query 5.0 s at the large scale, against 4.3 s.
    select customers.dataset, customers.tenant_id, customers.customer_id
    from customers
    inner join first_events
        on customers.tenant_id = first_events.tenant_id
        and customers.customer_id = first_events.customer_id
        and first_events.first_event_at <= customers.point_at
),

support as (
    -- a breach counts once its target time has passed by the point without the response
    -- or resolution: knowable at the point, whatever happened to the ticket later
    select
        customers.dataset,
        customers.tenant_id,
        customers.customer_id,
        count(*) as tickets_180d,
        count(*) filter (where
            (tickets.first_response_target_at <= customers.point_at
                and coalesce(tickets.first_response_at, customers.point_at + interval 1 day)
                    > tickets.first_response_target_at)
            or (tickets.resolution_target_at <= customers.point_at
                and coalesce(tickets.resolved_at, customers.point_at + interval 1 day)
                    > tickets.resolution_target_at)
        ) as sla_breaches_180d
    from customers
    inner join tickets
        on customers.tenant_id = tickets.tenant_id
        and customers.customer_id = tickets.customer_id
        and tickets.created_at > customers.point_at - interval 180 days
        and tickets.created_at <= customers.point_at
    group by all
),

latest_nps as (
    select customers.dataset, customers.tenant_id, customers.customer_id, nps.score as nps_last
    from customers
    inner join nps
        on customers.tenant_id = nps.tenant_id
        and customers.customer_id = nps.customer_id
        and nps.responded_at <= customers.point_at
    qualify row_number() over (
        partition by customers.dataset, customers.tenant_id, customers.customer_id
        order by nps.responded_at desc
    ) = 1
),

after_cutoff as (
    -- the label window's activity (training rows only)
    select
        customers.dataset,
        customers.tenant_id,
        customers.customer_id,
        bool_or(true) as active_after
    from customers
    inner join (
        select tenant_id, customer_id, occurred_at as at from events
        union all
        select tenant_id, customer_id, ordered_at from orders
    ) as activity
        on customers.tenant_id = activity.tenant_id
        and customers.customer_id = activity.customer_id
        and activity.at > customers.point_at
        and activity.at <= customers.point_at + to_days({{ var('ml_horizon_days') }})
    where customers.dataset = 'train'
    group by all
),

cancellations as (
    -- the latest version of each subscription recorded by the end of the label window
    select tenant_id, source_system, subscription_id, cancelled_at, status
    from subscription_versions
    qualify row_number() over (
        partition by tenant_id, source_system, subscription_id
        order by updated_at desc, loaded_at desc
    ) = 1
),

final as (
    select
        active.tenant_id,
        active.subscription_id,
        active.source_system,
        active.customer_id,
        active.dataset,
        active.point_at,
        active.cutoff_at,
        active.mrr,
        active.status = 'past_due' as is_past_due,
        date_diff('day', active.started_at, active.point_at) / 365.25 as tenure_years,
        ever_used.customer_id is not null as has_usage_data,
        case when ever_used.customer_id is not null then coalesce(usage.events_last_90d, 0) end as events_last_90d,
        case when ever_used.customer_id is not null then coalesce(usage.events_prior_90d, 0) end as events_prior_90d,
        case when ever_used.customer_id is not null
            then ln((coalesce(usage.events_last_90d, 0) + 1.0) / (coalesce(usage.events_prior_90d, 0) + 1.0))
        end as usage_trend,
        case when ever_used.customer_id is not null
            then coalesce(date_diff('day', usage.last_event_at, active.point_at), 180)
        end as days_since_last_event,
        coalesce(support.tickets_180d, 0) as tickets_180d,
        coalesce(support.sla_breaches_180d, 0) as sla_breaches_180d,
        latest_nps.nps_last,
        case
            when active.dataset = 'score' then null
            else (cancellations.cancelled_at is not null
                    and cancellations.cancelled_at > active.point_at
                    and cancellations.cancelled_at <= active.point_at + to_days({{ var('ml_horizon_days') }}))
                {% if var('ml_churn_inactivity_rule') %}
                or after_cutoff.active_after is null
                {% endif %}
        end as label
    from active
    left join usage
        on active.dataset = usage.dataset
        and active.tenant_id = usage.tenant_id
        and active.customer_id = usage.customer_id
    left join ever_used
        on active.dataset = ever_used.dataset
        and active.tenant_id = ever_used.tenant_id
        and active.customer_id = ever_used.customer_id
    left join support
        on active.dataset = support.dataset
        and active.tenant_id = support.tenant_id
        and active.customer_id = support.customer_id
    left join latest_nps
        on active.dataset = latest_nps.dataset
        and active.tenant_id = latest_nps.tenant_id
        and active.customer_id = latest_nps.customer_id
    left join after_cutoff
        -- on dataset equality, not "active.dataset = 'train'": a condition on one side
        -- only turns the join into a nested loop (D33); after_cutoff holds train rows only
        on active.dataset = after_cutoff.dataset
        and active.tenant_id = after_cutoff.tenant_id
        and active.customer_id = after_cutoff.customer_id
    left join cancellations
        on active.tenant_id = cancellations.tenant_id
        and active.source_system = cancellations.source_system
        and active.subscription_id = cancellations.subscription_id
)

select * from final
