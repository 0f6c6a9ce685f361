{#- Every customer_id ever handed out -> the customer_id it resolves to now. Live ids map
    to themselves; a merged-away id follows the merge log to its survivor (through any
    number of later merges). Split-off parts are new ids: the old id stays with the part
    that kept it. -#}
with recursive

live as not materialized (
    select distinct tenant_id, customer_id from {{ ref('int_identity_customer_ids_assigned') }}
),

merges as (
    select tenant_id, from_customer_id, to_customer_id, changed_at
    from {{ ref('int_identity_customer_id_changes') }}
    where change_type = 'merge'
),

-- The latest merge of each retired id (an id is merged away once; the latest wins if a
-- revived id was merged again).
last_merge as (
    select tenant_id, from_customer_id, arg_max(to_customer_id, changed_at) as to_customer_id
    from merges
    anti join live
        on merges.tenant_id = live.tenant_id and merges.from_customer_id = live.customer_id
    group by all
),

chain (tenant_id, alias_id, customer_id, hops) as (
    select tenant_id, from_customer_id, to_customer_id, 1 from last_merge
    union all
    select chain.tenant_id, chain.alias_id, last_merge.to_customer_id, chain.hops + 1
    from chain
    inner join last_merge
        on chain.tenant_id = last_merge.tenant_id and chain.customer_id = last_merge.from_customer_id
    where chain.hops < 100
),

resolved_aliases as (
    select tenant_id, alias_id, arg_max(customer_id, hops) as customer_id, max(hops) as hops
    from chain
    group by all
),

final as (
    select tenant_id, customer_id as alias_customer_id, customer_id, 0 as merge_hops, true as is_live
    from live
    union all
    select tenant_id, alias_id, customer_id, hops, false
    from resolved_aliases
)

select * from final
