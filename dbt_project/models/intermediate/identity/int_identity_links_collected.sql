{#- Every deterministic link between two identity nodes, one row per source record, pair
    and rule: the grain int_identity_edges_collected aggregates into edges.

    A node is `<type>:<value>`: email:<normalised email>, phone:<E.164>, user_id:<userId>,
    anonymous_id:<anonymousId>, external_id:<source_system>:<entity>:<record_id> (a
    person record: contact or lead). Links are undirected (node_a < node_b).

    Incremental per source record (delete+insert on the record): a run reads the records
    whose latest version was loaded since the last run, and the record's new links replace
    all of its old ones (the latest version is the truth: an identifier dropped from a
    record stops linking). A record whose new version links nothing still replaces its
    old links: it is written as one row without nodes, which the post-hook removes, looking
    only at the run's rows (`linked_at`: after the delete+insert, reading the whole table's
    node_a cost 0.6 s at the large scale).
    Events never change, except how an alias call's previousId is typed: alias calls are
    re-linked every run. -#}
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=['tenant_id', 'entity', 'source_system', 'record_id'],
        pre_hook=["{{ fill_edge_hash() }}"],
        post_hook=["{% if is_incremental() %}delete from {{ this }}
            where linked_at = '{{ run_started_at.strftime(\'%Y-%m-%d %H:%M:%S.%f\') }}'::timestamp
            and node_a is null{% endif %}"],
    )
}}

{%- set loaded_watermark = "timestamp '1900-01-01'" %}
{%- if execute and is_incremental() %}
    {%- set mark = run_query("select max(loaded_at)::varchar from " ~ this) %}
    {%- if mark.rows[0][0] %}{% set loaded_watermark = "timestamp '" ~ mark.rows[0][0] ~ "'" %}{% endif %}
{%- endif %}
{%- set run_at = "'" ~ run_started_at.strftime('%Y-%m-%d %H:%M:%S.%f') ~ "'::timestamp" %}
{%- set new_rows %}{% if is_incremental() %} where loaded_at > {{ loaded_watermark }}{% endif %}{% endset %}

with

contacts as not materialized (
    select * from {{ ref('stg_crm__contacts') }}{{ new_rows }}
),

leads as not materialized (
    select * from {{ ref('stg_crm__leads') }}{{ new_rows }}
),

opportunities as not materialized (
    select * from {{ ref('stg_crm__opportunities') }}{{ new_rows }}
),

tickets as not materialized (
    select * from {{ ref('stg_crm__tickets') }}{{ new_rows }}
),

campaign_members as not materialized (
    select * from {{ ref('stg_crm__campaign_members') }}{{ new_rows }}
),

consents as not materialized (
    select * from {{ ref('stg_crm__consents') }}{{ new_rows }}
),

nps_responses as not materialized (
    select * from {{ ref('stg_crm__nps_responses') }}{{ new_rows }}
),

email_activity as not materialized (
    select * from {{ ref('stg_crm__email_activity') }}{{ new_rows }}
),

all_events as not materialized (
    select * from {{ ref('stg_segment__events') }}
),

all_contacts as not materialized (
    select * from {{ ref('stg_crm__contacts') }}
),

-- New identify calls (selected on the raw load time, which is pushed into the raw scan),
-- and every alias call (int_identity_alias_calls): how an alias's previousId is typed
-- depends on whether it was ever seen as a userId, which later data can change.
identify_events as not materialized (
    select * from all_events
    where event_type = 'identify'
    {% if is_incremental() %}
        and raw_loaded_at > ({{ loaded_watermark }} at time zone 'UTC')
    {% endif %}
),

alias_events as not materialized (
    select * from {{ ref('int_identity_alias_calls') }}
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

-- The aliases' previousIds that appear as userIds, to type them (only those: grouping
-- every distinct userId cost more than the scan).
known_user_ids as (
    select distinct events.tenant_id, events.user_id
    from all_events as events
    semi join alias_events
        on events.tenant_id = alias_events.tenant_id and events.user_id = alias_events.previous_id
    union
    select distinct contacts.tenant_id, contacts.user_id
    from all_contacts as contacts
    semi join alias_events
        on contacts.tenant_id = alias_events.tenant_id and contacts.user_id = alias_events.previous_id
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
    from identify_events
    union all
    -- alias: previousId (an anonymousId, or an older userId) is the new userId.
    select
        alias_events.tenant_id,
        coalesce('user_id:' || alias_events.user_id, 'anonymous_id:' || alias_events.anonymous_id),
        case
            when known_user_ids.user_id is not null then 'user_id:' || alias_events.previous_id
            else 'anonymous_id:' || alias_events.previous_id
        end,
        'alias',
        'events',
        'segment',
        alias_events.message_id,
        alias_events.loaded_at
    from alias_events
    left join known_user_ids
        on alias_events.tenant_id = known_user_ids.tenant_id
        and alias_events.previous_id = known_user_ids.user_id
    where alias_events.previous_id is not null
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

links as (
    select
        tenant_id,
        entity,
        source_system,
        record_id,
        least(node_from, node_to) as node_a,
        greatest(node_from, node_to) as node_b,
        rule,
        loaded_at,
        {{ run_at }} as linked_at
    from all_links
    where node_from is not null and node_to is not null and node_from <> node_to
),

-- The edge's key hashed once, when the link is written: int_identity_edges_collected
-- groups every link by it in every run.
hashed as (
    select *, hash(tenant_id, node_a, node_b, rule) as edge_hash from links
),

{% if is_incremental() %}
-- One row without nodes per record read, so that delete+insert clears the old links of
-- a record whose new version has none.
records_read as (
    select tenant_id, 'contacts' as entity, source_system, contact_id as record_id, loaded_at from contacts
    union all
    select tenant_id, 'leads', source_system, lead_id, loaded_at from leads
    union all
    select tenant_id, 'opportunities', source_system, opportunity_id, loaded_at from opportunities
    union all
    select tenant_id, entity, source_system, record_id, loaded_at from activity_identifiers
    union all
    select tenant_id, 'events', 'segment', message_id, loaded_at from identify_events
    union all
    select tenant_id, 'events', 'segment', message_id, loaded_at from alias_events
),

final as (
    select * from hashed
    union all
    select tenant_id, entity, source_system, record_id, null, null, null, loaded_at, {{ run_at }}, null
    from records_read
    anti join links using (tenant_id, entity, source_system, record_id)
)
{% else %}
final as (
    select * from hashed
)
{% endif %}

select * from final
