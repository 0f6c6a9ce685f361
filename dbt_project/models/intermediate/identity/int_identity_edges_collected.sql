{#- Every deterministic link between two identity nodes, with its evidence.

    A node is `<type>:<value>`: email:<normalised email>, phone:<E.164>, user_id:<userId>,
    anonymous_id:<anonymousId>, external_id:<source_system>:<entity>:<record_id> (a
    person record: contact or lead). Edges are undirected (node_a < node_b), one per pair
    and rule, with the evidence of the first source row seen. The probabilistic stage
    (splink) adds edges of the same shape with match_probability < 1
    (int_identity_edges_filtered unions them). -#}
with

contacts as not materialized (
    select * from {{ ref('stg_crm__contacts') }}
),

leads as not materialized (
    select * from {{ ref('stg_crm__leads') }}
),

opportunities as not materialized (
    select * from {{ ref('stg_crm__opportunities') }}
),

tickets as not materialized (
    select * from {{ ref('stg_crm__tickets') }}
),

campaign_members as not materialized (
    select * from {{ ref('stg_crm__campaign_members') }}
),

consents as not materialized (
    select * from {{ ref('stg_crm__consents') }}
),

nps_responses as not materialized (
    select * from {{ ref('stg_crm__nps_responses') }}
),

email_activity as not materialized (
    select * from {{ ref('stg_crm__email_activity') }}
),

events as not materialized (
    select * from {{ ref('stg_segment__events') }}
),

-- (tenant, node, node, rule, entity, source_system, record_id, loaded_at): one row per link seen.
person_record_links as (
    select
        tenant_id,
        'external_id:' || source_system || ':contacts:' || contact_id as node_from,
        unnest([
            'email:' || email_normalized,
            'phone:' || phone_e164,
            'user_id:' || user_id
        ]) as node_to,
        unnest(['email', 'phone', 'user_id']) as rule,
        'contacts' as entity,
        source_system,
        contact_id as record_id,
        loaded_at
    from contacts
    union all
    select
        tenant_id,
        'external_id:' || source_system || ':leads:' || lead_id,
        unnest(['email:' || email_normalized, 'phone:' || phone_e164]),
        unnest(['email', 'phone']),
        'leads',
        source_system,
        lead_id,
        loaded_at
    from leads
),

record_links as (
    -- A converted lead is the contact it became.
    select
        tenant_id,
        'external_id:' || source_system || ':leads:' || lead_id as node_from,
        'external_id:' || source_system || ':contacts:' || converted_contact_id as node_to,
        'lead_conversion' as rule,
        'leads' as entity,
        source_system,
        lead_id as record_id,
        loaded_at
    from leads
    where converted_contact_id is not null
    union all
    -- An opportunity naming both its lead and its contact links them.
    select
        tenant_id,
        'external_id:' || source_system || ':leads:' || lead_id,
        'external_id:' || source_system || ':contacts:' || contact_id,
        'opportunity_link',
        'opportunities',
        source_system,
        opportunity_id,
        loaded_at
    from opportunities
    where lead_id is not null and contact_id is not null
),

-- Activity rows name their person by a record id of the same source system and/or an
-- email or phone: each row links the first identifier it has to the others.
activity_identifiers as (
    select tenant_id, 'tickets' as entity, source_system, ticket_id as record_id,
        [
            'external_id:' || source_system || ':contacts:' || contact_id,
            'email:' || requester_email_normalized
        ] as nodes,
        loaded_at
    from tickets
    union all
    select tenant_id, 'campaign_members', source_system, campaign_member_id,
        [
            'external_id:' || source_system || ':contacts:' || contact_id,
            'external_id:' || source_system || ':leads:' || lead_id,
            'email:' || email_normalized,
            'phone:' || phone_e164
        ],
        loaded_at
    from campaign_members
    union all
    select tenant_id, 'consents', source_system, consent_id,
        [
            'external_id:' || source_system || ':contacts:' || contact_id,
            'email:' || email_normalized,
            'phone:' || phone_e164
        ],
        loaded_at
    from consents
    union all
    select tenant_id, 'nps_responses', source_system, nps_response_id,
        ['external_id:' || source_system || ':contacts:' || contact_id, 'email:' || email_normalized],
        loaded_at
    from nps_responses
    union all
    select tenant_id, 'email_activity', source_system, email_activity_id,
        ['external_id:' || source_system || ':contacts:' || contact_id, 'email:' || email_normalized],
        loaded_at
    from email_activity
),

activity_links as (
    select
        tenant_id,
        list_filter(nodes, node -> node is not null)[1] as node_from,
        unnest(list_filter(nodes, node -> node is not null)[2:]) as node_to,
        entity || '_identifiers' as rule,
        entity,
        source_system,
        record_id,
        loaded_at
    from activity_identifiers
),

-- userIds that appear as such, to type an alias call's previousId.
known_user_ids as (
    select distinct tenant_id, user_id from events where user_id is not null
    union
    select distinct tenant_id, user_id from contacts where user_id is not null
),

event_links as (
    -- identify: the anonymous visitor is the user; its traits are the user's.
    select
        tenant_id,
        coalesce('user_id:' || user_id, 'anonymous_id:' || anonymous_id) as node_from,
        unnest([
            case when user_id is not null then 'anonymous_id:' || anonymous_id end,
            'email:' || email_normalized,
            'phone:' || phone_e164
        ]) as node_to,
        unnest(['identify', 'identify_traits', 'identify_traits']) as rule,
        'events' as entity,
        'segment' as source_system,
        message_id as record_id,
        loaded_at
    from events
    where event_type = 'identify'
    union all
    -- alias: previousId (an anonymousId, or an older userId) is the new userId.
    select
        events.tenant_id,
        coalesce('user_id:' || events.user_id, 'anonymous_id:' || events.anonymous_id),
        case
            when known_user_ids.user_id is not null then 'user_id:' || events.previous_id
            else 'anonymous_id:' || events.previous_id
        end,
        'alias',
        'events',
        'segment',
        events.message_id,
        events.loaded_at
    from events
    left join known_user_ids
        on events.tenant_id = known_user_ids.tenant_id
        and events.previous_id = known_user_ids.user_id
    where events.event_type = 'alias' and events.previous_id is not null
),

all_links as (
    select * from person_record_links
    union all
    select * from record_links
    union all
    select * from activity_links
    union all
    select * from event_links
),

final as (
    select
        tenant_id,
        least(node_from, node_to) as node_a,
        greatest(node_from, node_to) as node_b,
        rule,
        1.0::double as match_probability,
        'deterministic' as stage,
        min(entity || ':' || source_system || ':' || record_id) as evidence,
        count(*) as times_seen,
        -- the latest load of a row that produced the edge: what incremental clustering
        -- compares with its watermark
        max(loaded_at) as last_loaded_at
    from all_links
    where node_from is not null and node_to is not null and node_from <> node_to
    group by tenant_id, least(node_from, node_to), greatest(node_from, node_to), rule
)

select * from final
