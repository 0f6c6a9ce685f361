{{ config(unique_key=['tenant_id', 'source_system', 'product_id']) }}

with

source as not materialized (
    select * from {{ source('crm', 'products') }}
),

latest as (
    {{ latest_version('source') }}
),

final as (
    select
        tenant_id,
        source_system,
        record_id as product_id,
        trim(name) as product_name,
        nullif(lower(trim(family)), '') as family,
        list_price,
        is_subscription,
        {{ to_utc('updated_at') }} as updated_at,
        {{ to_utc('_loaded_at') }} as loaded_at
    from latest
)

{{ newer_versions('product_id') }}
