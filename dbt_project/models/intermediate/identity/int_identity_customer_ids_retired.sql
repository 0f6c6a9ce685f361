{#- Every customer_id merged away -> the customer_id it resolves to now, following the
    merge log through any number of later merges. Split-off parts are new ids: the old id
    stays with the part that kept it, so a split retires nothing. customer_aliases adds the
    live ids, which map to themselves. Rebuilt in full: the merges are few, and only their
    ids are looked up in the registry. -#}
with recursive

merges as (
    select tenant_id, from_customer_id, to_customer_id, changed_at
    from {{ ref('int_identity_customer_id_changes') }}
    where change_type = 'merge'
),

-- Ids merged away that a node holds again (a revived id) are live, not retired.
revived as (
    select distinct registry.tenant_id, registry.customer_id
    from {{ ref('int_identity_customer_ids_assigned') }} as registry
    semi join merges
        on registry.tenant_id = merges.tenant_id and registry.customer_id = merges.from_customer_id
),

-- The latest merge of each retired id (the latest wins if a revived id was merged again).
last_merge as (
    select tenant_id, from_customer_id, arg_max(to_customer_id, changed_at) as to_customer_id
    from merges
    anti join revived
        on merges.tenant_id = revived.tenant_id and merges.from_customer_id = revived.customer_id
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

final as (
    select tenant_id, alias_id as retired_customer_id, arg_max(customer_id, hops) as customer_id, max(hops) as merge_hops
    from chain
    group by all
)

select * from final
