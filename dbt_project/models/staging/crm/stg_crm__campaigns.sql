{{ config(unique_key=['tenant_id', 'source_system', 'campaign_id']) }}

with

source as not materialized (
    select * from {{ source('crm', 'campaigns') }}
),

latest as (
    {{ latest_version('source') }}
),

final as (
    select
        tenant_id,
        source_system,
        record_id as campaign_id,
        trim(name) as campaign_name,
        nullif(lower(trim(channel)), '') as channel,
        nullif(lower(trim(status)), '') as status,
        start_date,
        end_date,
        budget,
        nullif(trim(owner_id), '') as owner_id,
        {{ to_utc('updated_at') }} as updated_at,
        {{ to_utc('_loaded_at') }} as loaded_at
    from latest
)

{{ newer_versions('campaign_id') }}
