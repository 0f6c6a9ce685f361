{#- One row per Segment message. Ingest already deduplicated on (tenant_id, message_id).
    Nested objects stay JSON; the fields the marts use are lifted out here. -#}
with

tenants as not materialized (
    select * from {{ ref('stg_crm__tenants') }}
),

source as not materialized (
    select * from {{ source('segment', 'events') }}
),

lifted as (
    select
        source.*,
        coalesce(traits ->> '$.email', context ->> '$.traits.email') as trait_email,
        coalesce(traits ->> '$.phone', context ->> '$.traits.phone') as trait_phone
    from source
),

final as (
    select
        lifted.tenant_id,
        lifted.message_id,
        lifted.type as event_type,
        nullif(trim(lifted.anonymous_id), '') as anonymous_id,
        nullif(trim(lifted.user_id), '') as user_id,
        nullif(trim(lifted.previous_id), '') as previous_id,
        nullif(trim(lifted.group_id), '') as group_id,
        case
            when lifted.type = 'track' then lifted.event
            when lifted.type in ('page', 'screen') then coalesce(lifted.name, lifted.type)
            else lifted.type
        end as event_name,
        lifted.event as track_event,
        lifted.name as page_name,
        {{ to_utc('lifted.timestamp') }} as occurred_at,
        {{ to_utc('lifted.sent_at') }} as sent_at,
        lifted.context ->> '$.page.url' as page_url,
        coalesce(lifted.context ->> '$.page.path', lifted.properties ->> '$.path') as page_path,
        coalesce(lifted.context ->> '$.page.referrer', lifted.properties ->> '$.referrer') as referrer,
        lifted.context ->> '$.userAgent' as user_agent,
        lower(lifted.context ->> '$.campaign.source') as utm_source,
        lower(lifted.context ->> '$.campaign.medium') as utm_medium,
        lifted.context ->> '$.campaign.name' as utm_campaign,
        try_cast(lifted.properties ->> '$.revenue' as double) as revenue,
        {{ normalize_email('lifted.trait_email') }} as email_normalized,
        {{ normalize_phone('lifted.trait_phone', 'tenants.calling_code', 'tenants.trunk_prefix') }} as phone_e164,
        lifted.context,
        lifted.properties,
        lifted.traits,
        {{ to_utc('lifted._loaded_at') }} as loaded_at,
        lifted._loaded_at as raw_loaded_at
    from lifted
    left join tenants on lifted.tenant_id = tenants.tenant_id
)

select * from final
