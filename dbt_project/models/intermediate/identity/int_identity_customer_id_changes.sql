{#- The merge log: one row each time a customer_id was merged into another, or a part of
    a customer split off under a new id. Append-only (`full_refresh: false`): it is the
    audit trail of ids already handed out, and the map old id -> current id. -#}
{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        full_refresh=false,
    )
}}

with

registry as not materialized (
    select * from {{ ref('int_identity_customer_ids_assigned') }}
),

changes as (
    select
        tenant_id,
        previous_customer_id as from_customer_id,
        customer_id as to_customer_id,
        change_type,
        coalesce(string_agg(distinct change_rule, ','), change_type) as rule,
        string_agg(distinct change_evidence, '; ') as evidence,
        count(*) as nodes_moved,
        assigned_at as changed_at
    from registry
    where change_type in ('merge', 'split')
    {% if is_incremental() %}
        and assigned_at > (select coalesce(max(changed_at), '1900-01-01'::timestamp) from {{ this }})
    {% endif %}
    group by tenant_id, previous_customer_id, customer_id, change_type, assigned_at
),

final as (
    select
        tenant_id,
        from_customer_id,
        to_customer_id,
        change_type,
        rule,
        evidence,
        nodes_moved,
        changed_at
    from changes
)

select * from final
