{{ config(meta={'dagster': {'ref': {'name': 'customer_360'}}}) }}
-- customer_360 has one row for every customer the identity registry knows, and no other.
select coalesce(registry.tenant_id, c360.tenant_id) as tenant_id,
    coalesce(registry.customer_id, c360.customer_id) as customer_id
from (select distinct tenant_id, customer_id from {{ ref('int_identity_customer_ids_assigned') }}) as registry
full outer join {{ ref('customer_360') }} as c360
    on registry.tenant_id = c360.tenant_id and registry.customer_id = c360.customer_id
where registry.customer_id is null or c360.customer_id is null
