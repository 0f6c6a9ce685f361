{#- Sessions: a customer's events (every event has a customer: anonymous visitors are
    customers too) with less than var('session_timeout_minutes') between consecutive
    events. identify, alias and group calls are bookkeeping, not activity: they neither
    start nor extend a session.

    Incremental: a run recomputes every session of the customers whose events were
    re-stitched by fct_events or whose identity changed (merge, split: both ids). For a
    customer who only has new events, the sessions that ended more than the timeout
    before the earliest new event cannot change (no new event can extend them, and their
    numbers stay): only the events after them are sessionised again, numbered on from the
    sessions kept. When all its stored sessions ended that long before, those are just its
    new events, read from the rows loaded since the last run. Rows are replaced by session
    (delete+insert); the first post-hook deletes a recomputed customer's earlier sessions
    that no longer exist (two sessions joined by a new event leave one number unused at
    the end), the second the sessions of ids merged away. -#}
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=['tenant_id', 'session_id'],
        post_hook=[
            "{% if is_incremental() %}delete from {{ this }} as stale using (
                select tenant_id, customer_id, min(session_number) as first_rebuilt
                from {{ this }} where built_at = '{{ run_started_at.strftime(\'%Y-%m-%d %H:%M:%S.%f\') }}'::timestamp
                group by all) as rebuilt
                where stale.tenant_id = rebuilt.tenant_id and stale.customer_id = rebuilt.customer_id
                and stale.session_number >= rebuilt.first_rebuilt
                and stale.built_at < '{{ run_started_at.strftime(\'%Y-%m-%d %H:%M:%S.%f\') }}'::timestamp{% endif %}",
            "{{ delete_customers_merged_away() }}",
        ],
    )
}}

{#- A table built before sessions were incremental has no built_at: recompute it all once. -#}
{%- set incremental_run = is_incremental()
    and 'built_at' in (adapter.get_columns_in_relation(this) | map(attribute='name') | map('lower') | list) %}
{#- The last run's time, inlined as a literal so that the filters on it are pushed into
    the scans (a scalar subquery is not). -#}
{%- set built_watermark = "timestamp '1900-01-01'" %}
{%- if execute and incremental_run %}
    {%- set mark = run_query("select max(built_at)::varchar from " ~ this) %}
    {%- if mark.rows[0][0] %}{% set built_watermark = "timestamp '" ~ mark.rows[0][0] ~ "'" %}{% endif %}
{%- endif %}

with

all_events as not materialized (
    select
        tenant_id, customer_id, message_id, event_type, occurred_at, anonymous_id, page_path,
        utm_source, utm_medium, utm_campaign, revenue, loaded_at, resolved_at
    from {{ ref('fct_events') }}
),

registry as not materialized (
    select * from {{ ref('int_identity_customer_ids_assigned') }}
),

{% if incremental_run %}
-- Every session of these is recomputed.
recomputed_customers as (
    select distinct tenant_id, customer_id
    from all_events
    where resolved_at > {{ built_watermark }} and loaded_at <= {{ built_watermark }}
    union
    select tenant_id, unnest([customer_id, previous_customer_id])
    from registry
    where assigned_at > {{ built_watermark }}
),

extended_customers as (
    select tenant_id, customer_id, min(occurred_at) as first_new_at
    from all_events
    where loaded_at > {{ built_watermark }} and event_type not in ('identify', 'alias', 'group')
    group by tenant_id, customer_id
),

{%- set keep_before = "extended_customers.first_new_at - interval '" ~ var("session_timeout_minutes") ~ " minutes'" %}
kept as (
    select
        extended_customers.tenant_id,
        extended_customers.customer_id,
        count(sessions.session_id) filter (where sessions.ended_at < {{ keep_before }}) as kept_sessions,
        max(sessions.ended_at) filter (where sessions.ended_at < {{ keep_before }}) as kept_until,
        -- a stored session the new events may join or precede: its events are read again
        coalesce(bool_or(sessions.ended_at >= {{ keep_before }}), false) as reopens
    from extended_customers
    left join {{ this }} as sessions
        on extended_customers.tenant_id = sessions.tenant_id
        and extended_customers.customer_id = sessions.customer_id
    anti join recomputed_customers
        on extended_customers.tenant_id = recomputed_customers.tenant_id
        and extended_customers.customer_id = recomputed_customers.customer_id
    group by extended_customers.tenant_id, extended_customers.customer_id
    union all
    select tenant_id, customer_id, 0, null, true from recomputed_customers
),

-- The events after the kept sessions. Of a customer whose stored sessions all end before
-- its new events, those are only its new events: the rows loaded since the last run,
-- which the filter on loaded_at finds at the end of the table without reading the rest.
-- Only the other customers' events are looked for in the whole table (new events at the
-- end of history seldom come within the timeout of a customer's last stored session).
events as (
    select all_events.*, kept.kept_sessions
    from all_events
    inner join kept
        on all_events.tenant_id = kept.tenant_id and all_events.customer_id = kept.customer_id
    where all_events.loaded_at > {{ built_watermark }}
        and not kept.reopens
        and all_events.event_type not in ('identify', 'alias', 'group')
    union all
    select all_events.*, reopened.kept_sessions
    from all_events
    inner join (select * from kept where reopens) as reopened
        on all_events.tenant_id = reopened.tenant_id and all_events.customer_id = reopened.customer_id
    where all_events.event_type not in ('identify', 'alias', 'group')
        and (reopened.kept_until is null or all_events.occurred_at > reopened.kept_until)
),
{% else %}
events as (
    select *, 0 as kept_sessions from all_events
    where event_type not in ('identify', 'alias', 'group')
),
{% endif %}

gaps as (
    select
        *,
        case
            when lag(occurred_at) over customer_events is null then 1
            when occurred_at - lag(occurred_at) over customer_events
                > interval '{{ var("session_timeout_minutes") }} minutes' then 1
            else 0
        end as is_session_start
    from events
    window customer_events as (partition by tenant_id, customer_id order by occurred_at, message_id)
),

numbered as (
    select
        *,
        kept_sessions + sum(is_session_start) over (
            partition by tenant_id, customer_id order by occurred_at, message_id
            rows between unbounded preceding and current row
        )::bigint as session_number
    from gaps
),

final as (
    select
        tenant_id,
        'ses_' || substr(md5(tenant_id || '|' || customer_id || '|' || session_number::varchar), 1, 20)
            as session_id,
        customer_id,
        arg_min(anonymous_id, occurred_at) as anonymous_id,
        session_number,
        min(occurred_at) as started_at,
        max(occurred_at) as ended_at,
        date_diff('second', min(occurred_at), max(occurred_at)) as duration_seconds,
        count(*) as events_count,
        count(*) filter (where event_type in ('page', 'screen')) as page_views,
        arg_min(page_path, occurred_at) filter (where event_type = 'page') as landing_page,
        arg_min(utm_source, occurred_at) as utm_source,
        arg_min(utm_medium, occurred_at) as utm_medium,
        arg_min(utm_campaign, occurred_at) as utm_campaign,
        coalesce(sum(revenue), 0) as revenue,
        '{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S.%f") }}'::timestamp as built_at
    from numbered
    where customer_id is not null
    group by tenant_id, customer_id, session_number
)

select * from final
