{{ config(unique_key=['tenant_id', 'source_system', 'opportunity_id']) }}

with

source as not materialized (
    select * from {{ source('crm', 'opportunities') }}
),

latest as (
    {{ latest_version('source') }}
),

final as (
    select
        tenant_id,
        source_system,
        record_id as opportunity_id,
        nullif(trim(account_id), '') as account_id,
        nullif(trim(contact_id), '') as contact_id,
        nullif(trim(lead_id), '') as lead_id,
        nullif(trim(owner_id), '') as owner_id,
        trim(name) as opportunity_name,
        nullif(lower(trim(stage)), '') as stage,
        amount,
        nullif(lower(trim(currency)), '') as currency,
        probability,
        close_date,
        {{ to_utc('created_at') }} as created_at,
        {{ to_utc('closed_at') }} as closed_at,
        {{ to_utc('updated_at') }} as updated_at,
        {{ to_utc('_loaded_at') }} as loaded_at
    from latest
)

{{ newer_versions('opportunity_id') }}
