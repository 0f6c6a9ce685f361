{#- A handful of rows, read by the other staging models: stays a view. -#}
{{ config(materialized='view') }}

with

source as not materialized (
    select * from {{ source('crm', 'tenants') }}
),

latest as (
    select *
    from source
    qualify row_number() over (
        partition by tenant_id
        order by updated_at desc, _loaded_at desc, _file desc, _line desc
    ) = 1
),

countries as (
    {{ country_lookup() }}
),

country_codes as not materialized (
    select * from {{ ref('country_codes') }}
),

final as (
    select
        latest.tenant_id,
        trim(latest.name) as tenant_name,
        countries.iso2 as default_country,
        country_codes.calling_code,
        coalesce(country_codes.trunk_prefix, '') as trunk_prefix,
        coalesce(nullif(trim(latest.timezone), ''), 'UTC') as timezone,
        upper(nullif(trim(latest.currency), '')) as currency,
        {{ to_utc('latest.updated_at') }} as updated_at,
        {{ to_utc('latest._loaded_at') }} as loaded_at
    from latest
    left join countries on {{ country_key('latest.default_country') }} = countries.country_key
    left join country_codes on countries.iso2 = country_codes.iso2
)

select * from final
