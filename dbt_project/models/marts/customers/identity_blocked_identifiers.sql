{#- The identity guards' report: identifiers not used to merge people, and why. -#}
with

blocked as not materialized (
    select * from {{ ref('int_identity_identifiers_blocked') }}
),

final as (
    select
        tenant_id,
        identifier_type,
        identifier_value,
        reason,
        linked_people,
        linked_user_ids
    from blocked
)

select * from final
