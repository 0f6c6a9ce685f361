{#- Every source record that is about a person, and the customer it resolves to.

    Person records (contacts, leads) are nodes of the graph. Activity records resolve
    through the first of: their contact record, their lead record, their email, their
    phone (each of the same tenant; record ids within the row's source system). -#}
with

registry as (
    select tenant_id, node_key, customer_id from {{ ref('int_identity_customer_ids_assigned') }}
),

contacts as not materialized (select * from {{ ref('stg_crm__contacts') }}),
leads as not materialized (select * from {{ ref('stg_crm__leads') }}),
tickets as not materialized (select * from {{ ref('stg_crm__tickets') }}),
campaign_members as not materialized (select * from {{ ref('stg_crm__campaign_members') }}),
consents as not materialized (select * from {{ ref('stg_crm__consents') }}),
nps_responses as not materialized (select * from {{ ref('stg_crm__nps_responses') }}),
email_activity as not materialized (select * from {{ ref('stg_crm__email_activity') }}),
orders as not materialized (select * from {{ ref('stg_crm__orders') }}),
subscriptions as not materialized (select * from {{ ref('stg_crm__subscriptions') }}),
opportunities as not materialized (select * from {{ ref('stg_crm__opportunities') }}),

records as (
    select tenant_id, 'contacts' as entity, source_system, contact_id as record_id,
        ['external_id:' || source_system || ':contacts:' || contact_id] as candidates
    from contacts
    union all
    select tenant_id, 'leads', source_system, lead_id,
        ['external_id:' || source_system || ':leads:' || lead_id]
    from leads
    union all
    select tenant_id, 'tickets', source_system, ticket_id,
        ['external_id:' || source_system || ':contacts:' || contact_id, 'email:' || requester_email_normalized]
    from tickets
    union all
    select tenant_id, 'campaign_members', source_system, campaign_member_id,
        ['external_id:' || source_system || ':contacts:' || contact_id,
         'external_id:' || source_system || ':leads:' || lead_id,
         'email:' || email_normalized, 'phone:' || phone_e164]
    from campaign_members
    union all
    select tenant_id, 'consents', source_system, consent_id,
        ['external_id:' || source_system || ':contacts:' || contact_id,
         'email:' || email_normalized, 'phone:' || phone_e164]
    from consents
    union all
    select tenant_id, 'nps_responses', source_system, nps_response_id,
        ['external_id:' || source_system || ':contacts:' || contact_id, 'email:' || email_normalized]
    from nps_responses
    union all
    select tenant_id, 'email_activity', source_system, email_activity_id,
        ['external_id:' || source_system || ':contacts:' || contact_id, 'email:' || email_normalized]
    from email_activity
    union all
    select tenant_id, 'orders', source_system, order_id,
        ['external_id:' || source_system || ':contacts:' || contact_id]
    from orders
    union all
    select tenant_id, 'subscriptions', source_system, subscription_id,
        ['external_id:' || source_system || ':contacts:' || contact_id]
    from subscriptions
    union all
    select tenant_id, 'opportunities', source_system, opportunity_id,
        ['external_id:' || source_system || ':contacts:' || contact_id,
         'external_id:' || source_system || ':leads:' || lead_id]
    from opportunities
),

candidates as (
    select
        tenant_id, entity, source_system, record_id,
        unnest(candidates) as node_key,
        generate_subscripts(candidates, 1) as preference
    from records
),

resolved as (
    select
        candidates.tenant_id,
        candidates.entity,
        candidates.source_system,
        candidates.record_id,
        arg_min(registry.customer_id, candidates.preference) as customer_id,
        arg_min(split_part(candidates.node_key, ':', 1), candidates.preference) as resolved_by
    from candidates
    inner join registry
        on candidates.tenant_id = registry.tenant_id
        and candidates.node_key = registry.node_key
    group by all
),

final as (
    select
        records.tenant_id,
        records.entity,
        records.source_system,
        records.record_id,
        resolved.customer_id,
        resolved.resolved_by
    from records
    left join resolved
        on records.tenant_id = resolved.tenant_id
        and records.entity = resolved.entity
        and records.source_system = resolved.source_system
        and records.record_id = resolved.record_id
)

select * from final
