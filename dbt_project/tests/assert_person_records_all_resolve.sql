-- Every contact and lead belongs to exactly one customer.
select tenant_id, entity, source_system, record_id
from {{ ref('int_identity_records_resolved') }}
where entity in ('contacts', 'leads') and customer_id is null
