{#- Every non-event interaction of a customer (orders, tickets, campaign touches, NPS,
    consents, lead and opportunity milestones, subscriptions), one row each. Rebuilt in
    full each run (it is small next to the events); customer_timeline adds the events. -#}
with

resolved as not materialized (select * from {{ ref('int_identity_records_resolved') }} where customer_id is not null),
orders as not materialized (select * from {{ ref('stg_crm__orders') }}),
tickets as not materialized (select * from {{ ref('int_tickets_sla_measured') }} where customer_id is not null),
touches as not materialized (select * from {{ ref('int_campaign_touches_collected') }}),
nps as not materialized (select * from {{ ref('stg_crm__nps_responses') }}),
consents as not materialized (select * from {{ ref('stg_crm__consents') }}),
leads as not materialized (select * from {{ ref('stg_crm__leads') }}),
opportunities as not materialized (select * from {{ ref('stg_crm__opportunities') }}),
subscriptions as not materialized (select * from {{ ref('stg_crm__subscriptions') }}),

activities as (
    select
        orders.tenant_id,
        resolved.customer_id,
        orders.ordered_at as occurred_at,
        orders.source_system as source,
        'order_' || orders.status as activity_type,
        printf('%.2f %s', orders.amount, coalesce(orders.currency, '')) as detail,
        'orders' as entity,
        orders.order_id as record_id
    from orders
    inner join resolved on resolved.entity = 'orders' and orders.tenant_id = resolved.tenant_id
        and orders.source_system = resolved.source_system and orders.order_id = resolved.record_id
    union all
    select tenant_id, customer_id, unnest([created_at, resolved_at]), source_system,
        unnest(['ticket_opened', 'ticket_resolved']), coalesce(subject, category), 'tickets', ticket_id
    from tickets
    union all
    select tenant_id, customer_id, touched_at, 'marketing', touch_type, campaign_name, 'campaigns', campaign_id
    from touches
    union all
    select nps.tenant_id, resolved.customer_id, nps.responded_at, nps.source_system, nps.survey_type || '_response',
        nps.score::varchar, 'nps_responses', nps.nps_response_id
    from nps
    inner join resolved on resolved.entity = 'nps_responses' and nps.tenant_id = resolved.tenant_id
        and nps.source_system = resolved.source_system and nps.nps_response_id = resolved.record_id
    union all
    select consents.tenant_id, resolved.customer_id, consents.occurred_at, consents.source_system,
        'consent_' || consents.status, consents.purpose || ' via ' || consents.channel, 'consents', consents.consent_id
    from consents
    inner join resolved on resolved.entity = 'consents' and consents.tenant_id = resolved.tenant_id
        and consents.source_system = resolved.source_system and consents.consent_id = resolved.record_id
    union all
    select leads.tenant_id, resolved.customer_id, unnest([leads.created_at, leads.mql_at, leads.sql_at, leads.converted_at]),
        leads.source_system, unnest(['lead_created', 'lead_mql', 'lead_sql', 'lead_converted']),
        leads.lead_source, 'leads', leads.lead_id
    from leads
    inner join resolved on resolved.entity = 'leads' and leads.tenant_id = resolved.tenant_id
        and leads.source_system = resolved.source_system and leads.lead_id = resolved.record_id
    union all
    select opportunities.tenant_id, resolved.customer_id, unnest([opportunities.created_at, opportunities.closed_at]),
        opportunities.source_system, unnest(['opportunity_created', 'opportunity_' || opportunities.stage]),
        opportunities.opportunity_name, 'opportunities', opportunities.opportunity_id
    from opportunities
    inner join resolved on resolved.entity = 'opportunities' and opportunities.tenant_id = resolved.tenant_id
        and opportunities.source_system = resolved.source_system and opportunities.opportunity_id = resolved.record_id
    union all
    select subscriptions.tenant_id, resolved.customer_id, unnest([subscriptions.started_at, subscriptions.cancelled_at]),
        subscriptions.source_system, unnest(['subscription_started', 'subscription_cancelled']),
        subscriptions.product_id, 'subscriptions', subscriptions.subscription_id
    from subscriptions
    inner join resolved on resolved.entity = 'subscriptions' and subscriptions.tenant_id = resolved.tenant_id
        and subscriptions.source_system = resolved.source_system and subscriptions.subscription_id = resolved.record_id
),

final as (
    select tenant_id, customer_id, occurred_at, source, activity_type, detail, entity, record_id
    from activities
    where occurred_at is not null and customer_id is not null
)

select * from final
