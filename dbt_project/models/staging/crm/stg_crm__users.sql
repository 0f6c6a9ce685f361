{{ config(unique_key=['tenant_id', 'source_system', 'user_id']) }}

with

source as not materialized (
    select * from {{ source('crm', 'users') }}
),

latest as (
    {{ latest_version('source') }}
),

final as (
    select
        tenant_id,
        source_system,
        record_id as user_id,
        trim(name) as user_name,
        nullif(trim(email), '') as email,
        {{ normalize_email('email') }} as email_normalized,
        nullif(lower(trim(role)), '') as role,
        nullif(trim(team), '') as team,
        nullif(trim(skills), '') as skills,
        nullif(trim(territory), '') as territory,
        is_active,
        {{ to_utc('updated_at') }} as updated_at,
        {{ to_utc('_loaded_at') }} as loaded_at
    from latest
)

{{ newer_versions('user_id') }}
