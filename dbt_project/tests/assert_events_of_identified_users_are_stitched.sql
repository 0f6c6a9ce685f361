{{ config(meta={'dagster': {'ref': {'name': 'fct_events'}}}) }}
-- An event with a userId the registry knows is attributed to that user's customer.
select events.tenant_id, events.message_id
from {{ ref('fct_events') }} as events
inner join {{ ref('customer_identifiers') }} as identifiers
    on events.tenant_id = identifiers.tenant_id
    and identifiers.identifier_type = 'user_id'
    and events.user_id = identifiers.identifier_value
where events.customer_id is distinct from identifiers.customer_id
