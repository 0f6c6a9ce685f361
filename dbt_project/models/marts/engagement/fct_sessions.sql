{#- Sessions: a customer's events (every event has a customer: anonymous visitors are
    customers too) with less than var('session_timeout_minutes') between consecutive
    events. identify, alias and group calls are bookkeeping, not activity: they neither
    start nor extend a session.

    Incremental: a run recomputes the sessions of the customers whose events changed in
    it (new events, events re-stitched by fct_events) and of the customers whose identity
    changed (merge, split: both ids), replacing all their sessions (delete+insert on
    tenant and customer); sessions of ids merged away are deleted by the post-hook. -#}
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=['tenant_id', 'customer_id'],
        post_hook=[
            "{% if is_incremental() %}delete from {{ this }} as sessions where not exists (
                select 1 from {{ ref('int_identity_customer_ids_assigned') }} as registry
                where registry.tenant_id = sessions.tenant_id and registry.customer_id = sessions.customer_id){% endif %}"
        ],
    )
}}

{#- A table built before sessions were incremental has no built_at: recompute it all once. -#}
{%- set incremental_run = is_incremental()
    and 'built_at' in (adapter.get_columns_in_relation(this) | map(attribute='name') | map('lower') | list) %}

with

all_events as not materialized (
    select * from {{ ref('fct_events') }}
),

registry as not materialized (
    select * from {{ ref('int_identity_customer_ids_assigned') }}
),

{% if incremental_run %}
last_run as (
    select max(built_at) as built_at from {{ this }}
),

affected as (
    select distinct tenant_id, customer_id
    from all_events
    where resolved_at > (select built_at from last_run)
    union
    select tenant_id, unnest([customer_id, previous_customer_id])
    from registry
    where assigned_at > (select built_at from last_run)
),

events as (
    select all_events.*
    from all_events
    semi join affected
        on all_events.tenant_id = affected.tenant_id and all_events.customer_id = affected.customer_id
    where all_events.event_type not in ('identify', 'alias', 'group')
),
{% else %}
events as (
    select * from all_events
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
        sum(is_session_start) over (
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
