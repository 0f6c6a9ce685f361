{#- When each customer entered each lifecycle stage, and the stage they are in (a mart:
    the funnel, campaign conversions and customer_360 read it, and so can dashboards).

    Visitor: first event. Lead: first person record (contact or lead). MQL / SQL: the
    lead's mql_at / sql_at. Opportunity: first opportunity created. Customer: first
    completed order, subscription start or won opportunity. Churned: a customer with no
    active or past-due subscription whose subscriptions were all cancelled (at the last
    cancellation), or a buyer without subscriptions whose last order is more than
    var('churn_inactivity_days') before the as-of time (at that point). The current stage
    is the furthest one reached. -#}
with

resolved as not materialized (select * from {{ ref('int_identity_records_resolved') }}),
contacts as not materialized (select * from {{ ref('stg_crm__contacts') }}),
leads as not materialized (select * from {{ ref('stg_crm__leads') }}),
opportunities as not materialized (select * from {{ ref('stg_crm__opportunities') }}),
orders as not materialized (select * from {{ ref('stg_crm__orders') }}),
subscriptions as not materialized (select * from {{ ref('stg_crm__subscriptions') }}),
events as not materialized (select * from {{ ref('fct_events') }}),
registry as not materialized (select distinct tenant_id, customer_id from {{ ref('int_identity_customer_ids_assigned') }}),
as_of as not materialized (select * from {{ ref('int_tenants_as_of') }}),

by_record as (
    select resolved.tenant_id, resolved.customer_id, resolved.entity, resolved.source_system, resolved.record_id
    from resolved
    where resolved.customer_id is not null
),

lead_times as (
    select by_record.tenant_id, by_record.customer_id,
        min(coalesce(leads.created_at, leads.updated_at)) as lead_at, min(leads.mql_at) as mql_at, min(leads.sql_at) as sql_at
    from leads
    inner join by_record
        on by_record.entity = 'leads' and leads.tenant_id = by_record.tenant_id
        and leads.source_system = by_record.source_system and leads.lead_id = by_record.record_id
    group by all
),

contact_times as (
    select by_record.tenant_id, by_record.customer_id, min(coalesce(contacts.created_at, contacts.updated_at)) as contact_at
    from contacts
    inner join by_record
        on by_record.entity = 'contacts' and contacts.tenant_id = by_record.tenant_id
        and contacts.source_system = by_record.source_system and contacts.contact_id = by_record.record_id
    group by all
),

opportunity_times as (
    select by_record.tenant_id, by_record.customer_id,
        min(opportunities.created_at) as opportunity_at,
        min(opportunities.closed_at) filter (where opportunities.stage = 'closed_won') as won_at
    from opportunities
    inner join by_record
        on by_record.entity = 'opportunities' and opportunities.tenant_id = by_record.tenant_id
        and opportunities.source_system = by_record.source_system
        and opportunities.opportunity_id = by_record.record_id
    group by all
),

order_times as (
    select by_record.tenant_id, by_record.customer_id,
        min(orders.ordered_at) as first_order_at, max(orders.ordered_at) as last_order_at
    from orders
    inner join by_record
        on by_record.entity = 'orders' and orders.tenant_id = by_record.tenant_id
        and orders.source_system = by_record.source_system and orders.order_id = by_record.record_id
    where orders.status = 'completed'
    group by all
),

subscription_times as (
    select by_record.tenant_id, by_record.customer_id,
        min(subscriptions.started_at) as first_subscription_at,
        count(*) as subscriptions,
        count(*) filter (where subscriptions.status in ('active', 'past_due')) as live_subscriptions,
        max(subscriptions.cancelled_at) as last_cancelled_at
    from subscriptions
    inner join by_record
        on by_record.entity = 'subscriptions' and subscriptions.tenant_id = by_record.tenant_id
        and subscriptions.source_system = by_record.source_system
        and subscriptions.subscription_id = by_record.record_id
    group by all
),

event_times as (
    select tenant_id, customer_id, min(occurred_at) as visitor_at
    from events
    where customer_id is not null
    group by all
),

stages as (
    select
        registry.tenant_id,
        registry.customer_id,
        event_times.visitor_at,
        least(lead_times.lead_at, contact_times.contact_at) as lead_at,
        lead_times.mql_at,
        lead_times.sql_at,
        opportunity_times.opportunity_at,
        least(order_times.first_order_at, subscription_times.first_subscription_at, opportunity_times.won_at)
            as customer_at,
        order_times.last_order_at,
        subscription_times.subscriptions,
        subscription_times.live_subscriptions,
        subscription_times.last_cancelled_at,
        as_of.as_of_at
    from registry
    left join event_times using (tenant_id, customer_id)
    left join lead_times using (tenant_id, customer_id)
    left join contact_times using (tenant_id, customer_id)
    left join opportunity_times using (tenant_id, customer_id)
    left join order_times using (tenant_id, customer_id)
    left join subscription_times using (tenant_id, customer_id)
    left join as_of using (tenant_id)
),

churn as (
    select
        *,
        case
            when customer_at is null then null
            when coalesce(live_subscriptions, 0) > 0 then null
            when coalesce(subscriptions, 0) > 0 then last_cancelled_at
            when last_order_at < as_of_at - interval '{{ var("churn_inactivity_days") }} days'
                then last_order_at + interval '{{ var("churn_inactivity_days") }} days'
        end as churned_at
    from stages
),

final as (
    select
        tenant_id,
        customer_id,
        case
            when churned_at is not null then 'Churned'
            when customer_at is not null then 'Customer'
            when opportunity_at is not null then 'Opportunity'
            when sql_at is not null then 'SQL'
            when mql_at is not null then 'MQL'
            when lead_at is not null then 'Lead'
            else 'Visitor'
        end as lifecycle_stage,
        visitor_at,
        lead_at,
        mql_at,
        sql_at,
        opportunity_at,
        customer_at,
        churned_at
    from churn
)

select * from final
