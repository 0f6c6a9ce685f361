-- A customer_id never spans tenants (DESIGN.md decision 4). Checked for the ids of the
-- rows the latest run wrote, against every row (D32): an id can only come to span two
-- tenants in a run that writes it. `test_all_rows` checks every id.
with

registry as not materialized (select * from {{ ref('int_identity_customer_ids_assigned') }}),

checked as (
    select distinct customer_id from registry
    {% if not var('test_all_rows', false) %}
    where node_clustered_at = (select max(node_clustered_at) from registry)
    {% endif %}
)

select customer_id
from registry
semi join checked using (customer_id)
group by customer_id
having count(distinct tenant_id) > 1
