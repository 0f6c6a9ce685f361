{{ config(meta={'dagster': {'ref': {'name': 'customer_identifiers'}}}) }}
-- A blocked identifier (role email, shared identifier or device) is never an identity lookup key.
select blocked.tenant_id, blocked.identifier_type, blocked.identifier_value
from {{ ref('identity_blocked_identifiers') }} as blocked
inner join {{ ref('customer_identifiers') }} as identifiers
    on blocked.tenant_id = identifiers.tenant_id
    and blocked.identifier_type = identifiers.identifier_type
    and blocked.identifier_value = identifiers.identifier_value
