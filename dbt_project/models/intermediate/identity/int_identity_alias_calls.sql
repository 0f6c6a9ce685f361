{#- Every Segment alias call: the few rows int_identity_links_collected links again in
    every run (an alias's previousId is typed by whether it was ever seen as a userId,
    which later data can change). Kept apart because alias calls are spread over all
    events: a scan of the events that returns them decompresses nearly every vector of
    each column it returns, 3.6 s of CPU at the large scale (21.7M events, 27k alias
    calls), in every run, also when nothing was loaded.

    Incremental (append) on the raw load time: events never change, and the loader writes
    each (tenant, messageId) once. -#}
{{ config(materialized='incremental', incremental_strategy='append') }}

{%- set loaded_watermark = "timestamp '1900-01-01'" %}
{%- if execute and is_incremental() %}
    {%- set mark = run_query("select max(loaded_at)::varchar from " ~ this) %}
    {%- if mark.rows[0][0] %}{% set loaded_watermark = "timestamp '" ~ mark.rows[0][0] ~ "'" %}{% endif %}
{%- endif %}

with

final as (
    select tenant_id, message_id, user_id, anonymous_id, previous_id, loaded_at
    from {{ ref('stg_segment__events') }}
    where event_type = 'alias'
    {% if is_incremental() %}
        -- the raw column, so that the filter is pushed into the scan (D33)
        and raw_loaded_at > ({{ loaded_watermark }} at time zone 'UTC')
    {% endif %}
)

select * from final
