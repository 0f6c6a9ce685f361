{{ config(unique_key=['tenant_id', 'source_system', 'contact_id']) }}

with

tenants as not materialized (
    select * from {{ ref('stg_crm__tenants') }}
),

source as not materialized (
    select * from {{ source('crm', 'contacts') }}
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
        record_id as contact_id,
        nullif(trim(account_id), '') as account_id,
        nullif(trim(first_name), '') as first_name,
        {{ normalize_name('first_name') }} as first_name_normalized,
        nullif(trim(last_name), '') as last_name,
        {{ normalize_name('last_name') }} as last_name_normalized,
        nullif(trim(email), '') as email,
        {{ normalize_email('email') }} as email_normalized,
        nullif(trim(phone), '') as phone,
        {{ normalize_phone('phone', 'tenants.calling_code', 'tenants.trunk_prefix') }} as phone_e164,
        nullif(trim(job_title), '') as job_title,
        nullif(trim(street), '') as street,
        nullif(trim(city), '') as city,
        nullif(trim(postal_code), '') as postal_code,
        nullif(trim(latest.country), '') as country,
        countries.iso2 as country_code,
        date_of_birth,
        nullif(trim(user_id), '') as user_id,
        {{ to_utc('created_at') }} as created_at,
        {{ to_utc('latest.updated_at') }} as updated_at,
        {{ to_utc('latest._loaded_at') }} as loaded_at
    from latest
    left join tenants on latest.tenant_id = tenants.tenant_id
    left join countries on {{ country_key('latest.country') }} = countries.country_key
)

{{ newer_versions('contact_id') }}
