{#- The merge log (DESIGN.md decision 5): each time a customer_id was merged into an older
    one (change_type 'merge'), or part of a customer split off under a new id
    (change_type 'split'), with the rule and evidence that caused it. -#}
with

changes as not materialized (
    select * from {{ ref('int_identity_customer_id_changes') }}
),

final as (
    select
        tenant_id,
        from_customer_id,
        to_customer_id,
        rule,
        evidence,
        changed_at as merged_at,
        change_type,
        nodes_moved
    from changes
)

select * from final
