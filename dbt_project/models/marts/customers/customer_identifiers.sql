{#- Every identifier -> its customer_id, per tenant. Values are normalised as in staging
    (docs/identity.md): look an email up by its normalised form. external_id values are
    `<source_system>:<entity>:<record_id>`. Blocked identifiers (role emails, shared
    identifiers) resolve to nobody and are listed in identity_blocked_identifiers. -#}
with

registry as not materialized (
    select * from {{ ref('int_identity_customer_ids_assigned') }}
),

final as (
    select
        tenant_id,
        node_type as identifier_type,
        node_value as identifier_value,
        customer_id,
        node_first_seen_at as first_seen_at,
        assigned_at
    from registry
)

select * from final
