{#- The as-of time of each tenant: var('as_of') when set, else the latest activity in the
    tenant's data (events, orders, tickets, record updates), capped at now. Windows such
    as "events in the last 30 days" and "open ticket past its SLA" count back from it, so
    a replayed warehouse answers the same way on any day. -#}
with

tenants as not materialized (select * from {{ ref('stg_crm__tenants') }}),
-- From fct_events' stored column (the same events as staging): the staging view converts
-- every raw timestamp to UTC before the max, about 7 s over 21.6M events at the large scale.
events as (select tenant_id, max(occurred_at) as latest_at from {{ ref('fct_events') }} group by 1),
contacts as (select tenant_id, max(updated_at) as latest_at from {{ ref('stg_crm__contacts') }} group by 1),
orders as (select tenant_id, max(ordered_at) as latest_at from {{ ref('stg_crm__orders') }} group by 1),
tickets as (select tenant_id, max(updated_at) as latest_at from {{ ref('stg_crm__tickets') }} group by 1),

final as (
    select
        tenants.tenant_id,
        {% if var('as_of') %}
        '{{ var("as_of") }}'::timestamp as as_of_at
        {% else %}
        least(
            coalesce(greatest(events.latest_at, contacts.latest_at, orders.latest_at, tickets.latest_at),
                timezone('UTC', now())),
            timezone('UTC', now())
        ) as as_of_at
        {% endif %}
    from tenants
    left join events on tenants.tenant_id = events.tenant_id
    left join contacts on tenants.tenant_id = contacts.tenant_id
    left join orders on tenants.tenant_id = orders.tenant_id
    left join tickets on tenants.tenant_id = tickets.tenant_id
)

select * from final
