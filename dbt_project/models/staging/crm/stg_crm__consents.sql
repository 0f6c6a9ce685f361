{{ config(unique_key=['tenant_id', 'source_system', 'consent_id']) }}

with

tenants as not materialized (
    select * from {{ ref('stg_crm__tenants') }}
),

source as not materialized (
    select * from {{ source('crm', 'consents') }}
),

latest as (
    {{ latest_version('source') }}
),

final as (
    select
        latest.tenant_id,
        source_system,
        record_id as consent_id,
        nullif(trim(contact_id), '') as contact_id,
        nullif(trim(email), '') as email,
        {{ normalize_email('email') }} as email_normalized,
        nullif(trim(phone), '') as phone,
        {{ normalize_phone('phone', 'tenants.calling_code', 'tenants.trunk_prefix') }} as phone_e164,
        nullif(lower(trim(purpose)), '') as purpose,
        nullif(lower(trim(channel)), '') as channel,
        nullif(lower(trim(status)), '') as status,
        nullif(lower(trim(source)), '') as source,
        {{ to_utc('occurred_at') }} as occurred_at,
        {{ to_utc('latest.updated_at') }} as updated_at,
        {{ to_utc('latest._loaded_at') }} as loaded_at
    from latest
    left join tenants on latest.tenant_id = tenants.tenant_id
)

{{ newer_versions('consent_id') }}
