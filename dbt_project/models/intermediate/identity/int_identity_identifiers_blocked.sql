{#- Identifiers that identity resolution does not merge on, and why (docs/identity.md):
    - role_email: a role mailbox (info@, sales@, ... seed role_email_local_parts);
    - shared_identifier: an email, phone or userId on more than
      var('identity_max_records_per_identifier') distinct person records and userIds;
    - shared_device: an anonymousId linked to more than
      var('identity_max_user_ids_per_anonymous_id') userIds.

    Incremental (delete+insert per node): a run counts again the ends of the edges
    written since its last run (new or changed: int_identity_edges_collected.collected_at)
    and every node blocked now. An edge that vanished only lowers its ends' counts, which
    can unblock a blocked node but never block another, so those two sets cover every
    change. A recounted node no longer blocked is written with a null reason and deleted
    by the post-hook. Changing the role_email_local_parts seed or the identity_max_*
    vars needs a --full-refresh. -#}
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=['tenant_id', 'node_key'],
        post_hook=["{% if is_incremental() %}delete from {{ this }} where reason is null{% endif %}"],
    )
}}

{%- set watermark = built_watermark() %}

with

edges as not materialized (
    select * from {{ ref('int_identity_edges_collected') }}
),

role_local_parts as not materialized (
    select * from {{ ref('role_email_local_parts') }}
),

{% if watermark.incremental %}
recounted as materialized (
    select tenant_id, node_a as node_key from edges where collected_at > {{ watermark.mark }}
    union
    select tenant_id, node_b from edges where collected_at > {{ watermark.mark }}
    union
    select tenant_id, node_key from {{ this }}
),

both_directions as (
    select edges.tenant_id, edges.node_a as node_key, edges.node_b as neighbour
    from edges
    semi join recounted on edges.tenant_id = recounted.tenant_id and edges.node_a = recounted.node_key
    union all
    select edges.tenant_id, edges.node_b, edges.node_a
    from edges
    semi join recounted on edges.tenant_id = recounted.tenant_id and edges.node_b = recounted.node_key
),
{% else %}
both_directions as (
    select tenant_id, node_a as node_key, node_b as neighbour from edges
    union all
    select tenant_id, node_b, node_a from edges
),
{% endif %}

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

{% if watermark.incremental %}
-- every recounted node, blocked or not (reason null: deleted by the post-hook), so that
-- delete+insert replaces its row; a node left without edges has no count at all
counted as (
    select
        recounted.tenant_id,
        recounted.node_key,
        flagged.identifier_type,
        flagged.identifier_value,
        flagged.reason,
        flagged.linked_people,
        flagged.linked_user_ids
    from recounted
    left join flagged
        on recounted.tenant_id = flagged.tenant_id and recounted.node_key = flagged.node_key
),
{% else %}
counted as (
    select * from flagged where reason is not null
),
{% endif %}

final as (
    select
        tenant_id,
        node_key,
        identifier_type,
        identifier_value,
        reason,
        linked_people,
        linked_user_ids,
        '{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S.%f") }}'::timestamp as built_at
    from counted
)

select * from final
