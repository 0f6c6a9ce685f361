{{ config(unique_key=['tenant_id', 'source_system', 'lead_id']) }}

with

tenants as not materialized (
    select * from {{ ref('stg_crm__tenants') }}
),

source as not materialized (
    select * from {{ source('crm', 'leads') }}
),

latest as (
    {{ latest_version('source') }}
),

countries as (
    {{ country_lookup() }}
),

final as (
    select
        latest.tenant_id,
        source_system,
        record_id as lead_id,
        nullif(trim(first_name), '') as first_name,
        {{ normalize_name('first_name') }} as first_name_normalized,
        nullif(trim(last_name), '') as last_name,
        {{ normalize_name('last_name') }} as last_name_normalized,
        nullif(trim(email), '') as email,
        {{ normalize_email('email') }} as email_normalized,
        nullif(trim(phone), '') as phone,
        {{ normalize_phone('phone', 'tenants.calling_code', 'tenants.trunk_prefix') }} as phone_e164,
        nullif(trim(company), '') as company,
        nullif(trim(job_title), '') as job_title,
        nullif(lower(trim(industry)), '') as industry,
        employee_count,
        nullif(trim(latest.country), '') as country,
        countries.iso2 as country_code,
        nullif(lower(trim(lead_source)), '') as lead_source,
        nullif(lower(trim(status)), '') as status,
        nullif(trim(owner_id), '') as owner_id,
        {{ to_utc('created_at') }} as created_at,
        {{ to_utc('mql_at') }} as mql_at,
        {{ to_utc('sql_at') }} as sql_at,
        {{ to_utc('converted_at') }} as converted_at,
        nullif(trim(converted_contact_id), '') as converted_contact_id,
        nullif(trim(converted_account_id), '') as converted_account_id,
        nullif(trim(converted_opportunity_id), '') as converted_opportunity_id,
        {{ to_utc('latest.updated_at') }} as updated_at,
        {{ to_utc('latest._loaded_at') }} as loaded_at
    from latest
    left join tenants on latest.tenant_id = tenants.tenant_id
    left join countries on {{ country_key('latest.country') }} = countries.country_key
)

{{ newer_versions('lead_id') }}
