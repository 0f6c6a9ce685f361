{#- Identifiers that identity resolution does not merge on, and why (docs/identity.md):
    - role_email: a role mailbox (info@, sales@, ... seed role_email_local_parts);
    - shared_identifier: an email, phone or userId on more than
      var('identity_max_records_per_identifier') distinct person records and userIds;
    - shared_device: an anonymousId linked to more than
      var('identity_max_user_ids_per_anonymous_id') userIds. -#}
with

edges as not materialized (
    select * from {{ ref('int_identity_edges_collected') }}
),

role_local_parts as not materialized (
    select * from {{ ref('role_email_local_parts') }}
),

both_directions as (
    select tenant_id, node_a as node_key, node_b as neighbour from edges
    union all
    select tenant_id, node_b, node_a from edges
),

degrees as (
    select
        tenant_id,
        node_key,
        split_part(node_key, ':', 1) as identifier_type,
        substr(node_key, length(split_part(node_key, ':', 1)) + 2) as identifier_value,
        count(distinct neighbour) filter (
            where neighbour like 'external_id:%:contacts:%'
            or neighbour like 'external_id:%:leads:%'
            or neighbour like 'user_id:%'
        ) as linked_people,
        count(distinct neighbour) filter (where neighbour like 'user_id:%') as linked_user_ids
    from both_directions
    where node_key not like 'external_id:%'
    group by tenant_id, node_key
),

flagged as (
    select
        degrees.*,
        case
            when degrees.identifier_type = 'email' and role_local_parts.local_part is not null
                then 'role_email'
            when degrees.identifier_type = 'anonymous_id'
                and degrees.linked_user_ids > {{ var('identity_max_user_ids_per_anonymous_id') }}
                then 'shared_device'
            when degrees.identifier_type <> 'anonymous_id'
                and degrees.linked_people > {{ var('identity_max_records_per_identifier') }}
                then 'shared_identifier'
        end as reason
    from degrees
    left join role_local_parts
        on degrees.identifier_type = 'email'
        and {{ email_local_part('degrees.identifier_value') }} = role_local_parts.local_part
),

final as (
    select
        tenant_id,
        node_key,
        identifier_type,
        identifier_value,
        reason,
        linked_people,
        linked_user_ids
    from flagged
    where reason is not null
)

select * from final
