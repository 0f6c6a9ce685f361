{{ config(unique_key=['tenant_id', 'source_system', 'order_id']) }}

with

source as not materialized (
    select * from {{ source('crm', 'orders') }}
),

latest as (
    {{ latest_version('source') }}
),

final as (
    select
        tenant_id,
        source_system,
        record_id as order_id,
        nullif(trim(contact_id), '') as contact_id,
        nullif(trim(account_id), '') as account_id,
        nullif(trim(product_id), '') as product_id,
        quantity,
        amount,
        nullif(lower(trim(currency)), '') as currency,
        nullif(lower(trim(status)), '') as status,
        {{ to_utc('ordered_at') }} as ordered_at,
        {{ to_utc('updated_at') }} as updated_at,
        {{ to_utc('_loaded_at') }} as loaded_at
    from latest
)

{{ newer_versions('order_id') }}
