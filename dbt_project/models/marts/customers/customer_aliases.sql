{#- Every customer_id ever handed out -> the customer_id it resolves to now. Live ids (one
    facts row each: assert_customer_facts_cover_every_customer) map to themselves; a
    merged-away id maps to its survivor (int_identity_customer_ids_retired). A view: as a
    table it rewrote its 1.4M rows at the large scale in every build (3 s) to change a few. -#}
select tenant_id, customer_id as alias_customer_id, customer_id, 0 as merge_hops, true as is_live
from {{ ref('int_customer_facts_summarized') }}
union all
select tenant_id, retired_customer_id, customer_id, merge_hops, false
from {{ ref('int_identity_customer_ids_retired') }}
