{#- Every interaction of a customer from every source: events (fct_events, stitched) and
    everything else (int_customer_activities_collected). A view: the two tables it reads
    are kept up to date incrementally and in full, so the timeline costs nothing to build;
    the serving snapshot copies it into a table. -#}
{{ config(materialized='view') }}

with

events as not materialized (
    select * from {{ ref('fct_events') }} where customer_id is not null
),

activities as not materialized (
    select * exclude (source_record, built_at) from {{ ref('int_customer_activities_collected') }}
),

event_activities as (
    select
        tenant_id,
        customer_id,
        occurred_at,
        'web' as source,
        case event_type when 'track' then 'event' when 'page' then 'page_view' else event_type end as activity_type,
        coalesce(event_name, page_path) as detail,
        'events' as entity,
        message_id as record_id
    from events
),

final as (
    select * from event_activities
    union all
    select * from activities
)

select * from final
