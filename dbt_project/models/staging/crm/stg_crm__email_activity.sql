{{ config(unique_key=['tenant_id', 'source_system', 'email_activity_id']) }}

with

source as not materialized (
    select * from {{ source('crm', 'email_activity') }}
),

latest as (
    {{ latest_version('source') }}
),

final as (
    select
        tenant_id,
        source_system,
        record_id as email_activity_id,
        nullif(trim(campaign_id), '') as campaign_id,
        nullif(trim(contact_id), '') as contact_id,
        nullif(trim(email), '') as email,
        {{ normalize_email('email') }} as email_normalized,
        nullif(lower(trim(activity_type)), '') as activity_type,
        nullif(trim(url), '') as url,
        {{ to_utc('occurred_at') }} as occurred_at,
        {{ to_utc('updated_at') }} as updated_at,
        {{ to_utc('_loaded_at') }} as loaded_at
    from latest
)

{{ newer_versions('email_activity_id') }}
