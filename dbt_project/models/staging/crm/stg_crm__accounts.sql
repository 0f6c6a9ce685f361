{{ config(unique_key=['tenant_id', 'source_system', 'account_id']) }}

with

source as not materialized (
    select * from {{ source('crm', 'accounts') }}
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
        record_id as account_id,
        trim(latest.name) as account_name,
        nullif(trim(domain), '') as domain,
        nullif(lower(trim(industry)), '') as industry,
        employee_count,
        annual_revenue,
        nullif(trim(latest.country), '') as country,
        countries.iso2 as country_code,
        nullif(trim(city), '') as city,
        nullif(trim(owner_id), '') as owner_id,
        {{ to_utc('created_at') }} as created_at,
        {{ to_utc('latest.updated_at') }} as updated_at,
        {{ to_utc('latest._loaded_at') }} as loaded_at
    from latest
    left join countries on {{ country_key('latest.country') }} = countries.country_key
)

{{ newer_versions('account_id') }}
