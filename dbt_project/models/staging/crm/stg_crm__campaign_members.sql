{{ config(unique_key=['tenant_id', 'source_system', 'campaign_member_id']) }}

with

tenants as not materialized (
    select * from {{ ref('stg_crm__tenants') }}
),

source as not materialized (
    select * from {{ source('crm', 'campaign_members') }}
),

latest as (
    {{ latest_version('source') }}
),

final as (
    select
        latest.tenant_id,
        source_system,
        record_id as campaign_member_id,
        nullif(trim(campaign_id), '') as campaign_id,
        nullif(trim(contact_id), '') as contact_id,
        nullif(trim(lead_id), '') as lead_id,
        nullif(trim(email), '') as email,
        {{ normalize_email('email') }} as email_normalized,
        nullif(trim(phone), '') as phone,
        {{ normalize_phone('phone', 'tenants.calling_code', 'tenants.trunk_prefix') }} as phone_e164,
        nullif(lower(trim(status)), '') as status,
        {{ to_utc('added_at') }} as added_at,
        {{ to_utc('first_responded_at') }} as first_responded_at,
        {{ to_utc('latest.updated_at') }} as updated_at,
        {{ to_utc('latest._loaded_at') }} as loaded_at
    from latest
    left join tenants on latest.tenant_id = tenants.tenant_id
)

{{ newer_versions('campaign_member_id') }}
