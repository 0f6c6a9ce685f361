{{ config(unique_key=['tenant_id', 'source_system', 'nps_response_id']) }}

with

source as not materialized (
    select * from {{ source('crm', 'nps_responses') }}
),

latest as (
    {{ latest_version('source') }}
),

final as (
    select
        tenant_id,
        source_system,
        record_id as nps_response_id,
        nullif(trim(contact_id), '') as contact_id,
        nullif(trim(email), '') as email,
        {{ normalize_email('email') }} as email_normalized,
        nullif(lower(trim(survey_type)), '') as survey_type,
        score,
        nullif(trim(comment), '') as comment,
        nullif(trim(ticket_id), '') as ticket_id,
        {{ to_utc('responded_at') }} as responded_at,
        {{ to_utc('updated_at') }} as updated_at,
        {{ to_utc('_loaded_at') }} as loaded_at
    from latest
)

{{ newer_versions('nps_response_id') }}
