{{ config(unique_key=['tenant_id', 'source_system', 'ticket_id']) }}

with

source as not materialized (
    select * from {{ source('crm', 'tickets') }}
),

latest as (
    {{ latest_version('source') }}
),

final as (
    select
        tenant_id,
        source_system,
        record_id as ticket_id,
        nullif(trim(contact_id), '') as contact_id,
        nullif(trim(requester_email), '') as requester_email,
        {{ normalize_email('requester_email') }} as requester_email_normalized,
        nullif(trim(subject), '') as subject,
        nullif(lower(trim(category)), '') as category,
        nullif(lower(trim(priority)), '') as priority,
        nullif(lower(trim(status)), '') as status,
        nullif(lower(trim(channel)), '') as channel,
        nullif(trim(assignee_id), '') as assignee_id,
        {{ to_utc('created_at') }} as created_at,
        {{ to_utc('first_response_at') }} as first_response_at,
        {{ to_utc('resolved_at') }} as resolved_at,
        {{ to_utc('first_response_due_at') }} as first_response_due_at,
        {{ to_utc('resolution_due_at') }} as resolution_due_at,
        {{ to_utc('updated_at') }} as updated_at,
        {{ to_utc('_loaded_at') }} as loaded_at
    from latest
)

{{ newer_versions('ticket_id') }}
