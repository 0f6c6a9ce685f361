-- A customer_id never spans tenants (DESIGN.md decision 4).
select customer_id
from {{ ref('int_identity_customer_ids_assigned') }}
group by customer_id
having count(distinct tenant_id) > 1
