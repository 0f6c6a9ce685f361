{#- One row per event, stitched to its customer. Incremental: a run parses only the events
    loaded since the last run, and re-stitches (from this table, without re-parsing) the
    earlier events of any userId or anonymousId whose customer_id changed in this run (a
    merge, a split, a visitor identifying). The watermarks are read first and inlined as
    literals: a filter on a constant is pushed into the raw scan, so the staging view's
    parsing runs only for new rows. -#}
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=['tenant_id', 'message_id'],
    )
}}

{%- set run_at = "'" ~ run_started_at.strftime('%Y-%m-%d %H:%M:%S.%f') ~ "'::timestamp" %}
{%- set loaded_watermark = "timestamp '1900-01-01'" %}
{%- set resolved_watermark = "timestamp '1900-01-01'" %}
{%- if execute and is_incremental() %}
    {%- set marks = run_query("select max(loaded_at)::varchar, max(resolved_at)::varchar from " ~ this) %}
    {%- if marks.rows[0][0] %}{% set loaded_watermark = "timestamp '" ~ marks.rows[0][0] ~ "'" %}{% endif %}
    {%- if marks.rows[0][1] %}{% set resolved_watermark = "timestamp '" ~ marks.rows[0][1] ~ "'" %}{% endif %}
{%- endif %}

with

events as not materialized (
    select * from {{ ref('stg_segment__events') }}
),

registry as not materialized (
    select * from {{ ref('int_identity_customer_ids_assigned') }}
),

new_events as (
    select
        tenant_id,
        message_id,
        event_type,
        event_name,
        occurred_at,
        anonymous_id,
        user_id,
        page_url,
        page_path,
        referrer,
        utm_source,
        utm_medium,
        utm_campaign,
        revenue,
        properties,
        loaded_at
    from events
    {% if is_incremental() %}
    where loaded_at > {{ loaded_watermark }}
    {% endif %}
),

{% if is_incremental() %}
changed_user_ids as (
    select tenant_id, node_value as user_id
    from registry
    where node_type = 'user_id' and assigned_at > {{ resolved_watermark }}
),

changed_anonymous_ids as (
    select tenant_id, node_value as anonymous_id
    from registry
    where node_type = 'anonymous_id' and assigned_at > {{ resolved_watermark }}
),

restitched_events as (
    select * exclude (customer_id, resolved_at)
    from {{ this }} as existing
    where exists (
        select 1 from changed_user_ids
        where changed_user_ids.tenant_id = existing.tenant_id and changed_user_ids.user_id = existing.user_id
    )
    or exists (
        select 1 from changed_anonymous_ids
        where changed_anonymous_ids.tenant_id = existing.tenant_id
            and changed_anonymous_ids.anonymous_id = existing.anonymous_id
    )
),

candidate_events as (
    select * from new_events
    union all
    select * from restitched_events
    where not exists (
        select 1 from new_events
        where new_events.tenant_id = restitched_events.tenant_id
            and new_events.message_id = restitched_events.message_id
    )
),
{% else %}
candidate_events as (
    select * from new_events
),
{% endif %}

user_customers as (
    select tenant_id, node_value as user_id, customer_id from registry where node_type = 'user_id'
),

anonymous_customers as (
    select tenant_id, node_value as anonymous_id, customer_id from registry where node_type = 'anonymous_id'
),

final as (
    select
        candidate_events.tenant_id,
        candidate_events.message_id,
        coalesce(user_customers.customer_id, anonymous_customers.customer_id) as customer_id,
        candidate_events.event_type,
        candidate_events.event_name,
        candidate_events.occurred_at,
        candidate_events.anonymous_id,
        candidate_events.user_id,
        candidate_events.page_url,
        candidate_events.page_path,
        candidate_events.referrer,
        candidate_events.utm_source,
        candidate_events.utm_medium,
        candidate_events.utm_campaign,
        candidate_events.revenue,
        candidate_events.properties,
        candidate_events.loaded_at,
        {{ run_at }} as resolved_at
    from candidate_events
    left join user_customers
        on candidate_events.tenant_id = user_customers.tenant_id
        and candidate_events.user_id = user_customers.user_id
    left join anonymous_customers
        on candidate_events.tenant_id = anonymous_customers.tenant_id
        and candidate_events.anonymous_id = anonymous_customers.anonymous_id
)

select * from final
