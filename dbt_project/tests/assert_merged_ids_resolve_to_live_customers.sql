{{ config(meta={'dagster': {'ref': {'name': 'customer_merges'}}}) }}
-- Old ids keep resolving: every id ever merged away maps to a customer that exists now
-- (has facts, hence a customer_360 row: see assert_customer_facts_cover_every_customer).
select merges.tenant_id, merges.from_customer_id
from {{ ref('customer_merges') }} as merges
left join {{ ref('customer_aliases') }} as aliases
    on merges.tenant_id = aliases.tenant_id and merges.from_customer_id = aliases.alias_customer_id
left join {{ ref('int_customer_facts_summarized') }} as customers
    on aliases.tenant_id = customers.tenant_id and aliases.customer_id = customers.customer_id
where merges.change_type = 'merge' and customers.customer_id is null
