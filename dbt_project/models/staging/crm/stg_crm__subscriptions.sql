{{ config(unique_key=['tenant_id', 'source_system', 'subscription_id']) }}

with

source as not materialized (
    select * from {{ source('crm', 'subscriptions') }}
),

latest as (
    {{ latest_version('source') }}
),

final as (
    select
        tenant_id,
        source_system,
        record_id as subscription_id,
        nullif(trim(account_id), '') as account_id,
        nullif(trim(contact_id), '') as contact_id,
        nullif(trim(product_id), '') as product_id,
        nullif(lower(trim(status)), '') as status,
        mrr,
        {{ to_utc('started_at') }} as started_at,
        {{ to_utc('cancelled_at') }} as cancelled_at,
        {{ to_utc('current_period_end') }} as current_period_end,
        {{ to_utc('updated_at') }} as updated_at,
        {{ to_utc('_loaded_at') }} as loaded_at
    from latest
)

{{ newer_versions('subscription_id') }}
