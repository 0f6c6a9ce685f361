{{ config(unique_key=['tenant_id', 'source_system', 'opportunity_stage_history_id']) }}

with

source as not materialized (
    select * from {{ source('crm', 'opportunity_stage_history') }}
),

latest as (
    {{ latest_version('source') }}
),

final as (
    select
        tenant_id,
        source_system,
        record_id as opportunity_stage_history_id,
        nullif(trim(opportunity_id), '') as opportunity_id,
        nullif(lower(trim(stage)), '') as stage,
        {{ to_utc('entered_at') }} as entered_at,
        {{ to_utc('updated_at') }} as updated_at,
        {{ to_utc('_loaded_at') }} as loaded_at
    from latest
)

{{ newer_versions('opportunity_stage_history_id') }}
