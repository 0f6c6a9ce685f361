{#- One row per event, stitched to its customer. Incremental: a run parses only the events
    loaded since the last run, and re-stitches (from this table, without re-parsing) the
    earlier events of any userId or anonymousId whose customer_id changed in this run (a
    merge, a split, a visitor identifying). The watermarks are read first and inlined as
    literals, and the new events are selected on the raw load time (`raw_loaded_at`): a
    filter on a plain column and a constant is pushed into the raw scan, where zone maps
    skip everything loaded before (the UTC-converted `loaded_at` is an expression DuckDB
    cannot push, and filtering on it scanned all 21.6M rows' JSON at the large scale).
    The re-stitching reads this whole table, so it is left out when no id changed.
    The delete+insert key includes loaded_at, which a re-stitched event keeps: it deletes
    the same rows as (tenant_id, message_id), and DuckDB passes the written rows' range of
    loaded_at to the delete's scan of this table, which skips what was loaded before new
    events (2.3 s of a large +1% rebuild went to finding no old row of the new events). -#}
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=['tenant_id', 'message_id', 'loaded_at'],
    )
}}

{%- set run_at = "'" ~ run_started_at.strftime('%Y-%m-%d %H:%M:%S.%f') ~ "'::timestamp" %}
{%- set loaded_watermark = "timestamp '1900-01-01'" %}
{%- set resolved_watermark = "timestamp '1900-01-01'" %}
{%- set ids_changed = false %}
{%- if execute and is_incremental() %}
    {%- set marks = run_query("select max(loaded_at)::varchar, max(resolved_at)::varchar from " ~ this) %}
    {%- if marks.rows[0][0] %}{% set loaded_watermark = "timestamp '" ~ marks.rows[0][0] ~ "'" %}{% endif %}
    {%- if marks.rows[0][1] %}{% set resolved_watermark = "timestamp '" ~ marks.rows[0][1] ~ "'" %}{% endif %}
    {%- set changes = run_query(
        "select count(*) from " ~ ref('int_identity_customer_ids_assigned')
        ~ " where node_type in ('user_id', 'anonymous_id') and assigned_at > " ~ resolved_watermark) %}
    {%- set ids_changed = changes.rows[0][0] > 0 %}
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
    where raw_loaded_at > ({{ loaded_watermark }} at time zone 'UTC')
    {% endif %}
),

{% if ids_changed %}
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

-- Two hash semi joins (an event is taken by its userId, else by its anonymousId): an
-- `exists ... or exists ...` became two mark joins over every row, about 50 s at the
-- large scale.
restitched_events as (
    select existing.* exclude (customer_id, resolved_at)
    from {{ this }} as existing
    semi join changed_user_ids
        on existing.tenant_id = changed_user_ids.tenant_id and existing.user_id = changed_user_ids.user_id
    union all
    select existing.* exclude (customer_id, resolved_at)
    from {{ this }} as existing
    semi join changed_anonymous_ids
        on existing.tenant_id = changed_anonymous_ids.tenant_id
        and existing.anonymous_id = changed_anonymous_ids.anonymous_id
    anti join changed_user_ids
        on existing.tenant_id = changed_user_ids.tenant_id and existing.user_id = changed_user_ids.user_id
),

candidate_events as (
    select * from new_events
    union all
    select * from restitched_events
    anti join new_events
        on restitched_events.tenant_id = new_events.tenant_id
        and restitched_events.message_id = new_events.message_id
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
