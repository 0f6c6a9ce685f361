{#- Inputs of the rule-based customer health score, per customer who is (or was) a
    customer, and the score itself (0-100, docs/identity.md has nothing to do with it:
    the rules are in this model's YAML description). -#}
with

-- The customer_360 columns it needs come from the two tables under that view (D38): read
-- through the view, this model would wait for the view's tests, at the end of the build.
customers as not materialized (
    select
        facts.tenant_id,
        facts.customer_id,
        lifecycle.lifecycle_stage,
        facts.mrr,
        facts.open_tickets,
        facts.latest_nps_score,
        facts.past_due_subscriptions,
        facts.active_subscriptions,
        facts.refunded_orders
    from {{ ref('int_customer_facts_summarized') }} as facts
    inner join {{ ref('customer_lifecycle') }} as lifecycle
        on facts.tenant_id = lifecycle.tenant_id and facts.customer_id = lifecycle.customer_id
    where lifecycle.customer_at is not null
),
events as not materialized (select * from {{ ref('fct_events') }} where customer_id is not null),
tickets as not materialized (select * from {{ ref('int_tickets_sla_measured') }} where customer_id is not null),
as_of as not materialized (select * from {{ ref('int_tenants_as_of') }}),

usage as (
    select
        events.tenant_id,
        events.customer_id,
        count(*) filter (where events.occurred_at > as_of.as_of_at - interval 30 days) as events_last_30d,
        count(*) filter (where events.occurred_at <= as_of.as_of_at - interval 30 days
            and events.occurred_at > as_of.as_of_at - interval 60 days) as events_prior_30d
    from events
    inner join as_of on events.tenant_id = as_of.tenant_id
    -- the literal lets the scan skip older events; the join condition did not
    where events.occurred_at > {{ earliest_window_start(60) }}
        and events.occurred_at > as_of.as_of_at - interval 60 days
    group by all
),

support_pain as (
    select
        tickets.tenant_id,
        tickets.customer_id,
        count(*) filter (where tickets.created_at > as_of.as_of_at - interval 90 days) as tickets_90d,
        count(*) filter (where tickets.created_at > as_of.as_of_at - interval 90 days
            and (tickets.first_response_breached or tickets.resolution_breached)) as sla_breaches_90d,
        count(*) filter (where tickets.is_open and tickets.priority in ('high', 'urgent')) as open_high_priority_tickets
    from tickets
    inner join as_of on tickets.tenant_id = as_of.tenant_id
    group by all
),

inputs as (
    select
        customers.tenant_id,
        customers.customer_id,
        customers.lifecycle_stage,
        customers.mrr,
        coalesce(usage.events_last_30d, 0) as events_last_30d,
        coalesce(usage.events_prior_30d, 0) as events_prior_30d,
        case
            when coalesce(usage.events_prior_30d, 0) = 0 then null
            else round(coalesce(usage.events_last_30d, 0)::double / usage.events_prior_30d - 1, 3)
        end as usage_trend,
        coalesce(support_pain.tickets_90d, 0) as tickets_90d,
        coalesce(support_pain.sla_breaches_90d, 0) as sla_breaches_90d,
        coalesce(support_pain.open_high_priority_tickets, 0) as open_high_priority_tickets,
        customers.open_tickets,
        customers.latest_nps_score,
        customers.past_due_subscriptions,
        customers.active_subscriptions,
        customers.refunded_orders,
        case
            when customers.past_due_subscriptions > 0 then 'past_due'
            when customers.refunded_orders > 0 then 'refunds'
            else 'ok'
        end as payment_status
    from customers
    left join usage using (tenant_id, customer_id)
    left join support_pain using (tenant_id, customer_id)
),

final as (
    select
        *,
        greatest(0, 100
            - case when usage_trend <= -0.5 or (events_prior_30d > 0 and events_last_30d = 0) then 30
                   when usage_trend <= -0.2 then 15 else 0 end
            - case when sla_breaches_90d > 0 or open_high_priority_tickets > 0 then 20
                   when tickets_90d >= 3 then 10 else 0 end
            - case when latest_nps_score <= 6 then 20 when latest_nps_score <= 8 then 5 else 0 end
            - case when payment_status = 'past_due' then 30 when payment_status = 'refunds' then 10 else 0 end
        ) as health_score
    from inputs
)

select
    *,
    case when health_score >= 75 then 'healthy' when health_score >= 50 then 'watch' else 'at_risk' end as health_band
from final
