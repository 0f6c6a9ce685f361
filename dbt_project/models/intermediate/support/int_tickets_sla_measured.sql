{#- Tickets against their SLA. Targets come from the ticket (first_response_due_at,
    resolution_due_at) and, where the source gave none, from created_at plus the seed
    sla_targets for its priority. A target is breached when met late, or when still unmet
    past its due time at the tenant's as-of time. -#}
with

tickets as not materialized (select * from {{ ref('stg_crm__tickets') }}),
sla_targets as not materialized (select * from {{ ref('sla_targets') }}),
as_of as not materialized (select * from {{ ref('int_tenants_as_of') }}),
resolved as (
    select tenant_id, source_system, record_id, customer_id
    from {{ ref('int_identity_records_resolved') }}
    where entity = 'tickets'
),

measured as (
    select
        tickets.*,
        resolved.customer_id,
        coalesce(
            tickets.first_response_due_at,
            tickets.created_at + to_microseconds((sla_targets.first_response_hours * 3600e6)::bigint)
        ) as first_response_target_at,
        coalesce(
            tickets.resolution_due_at,
            tickets.created_at + to_microseconds((sla_targets.resolution_hours * 3600e6)::bigint)
        ) as resolution_target_at,
        as_of.as_of_at
    from tickets
    left join sla_targets on tickets.priority = sla_targets.priority
    left join as_of on tickets.tenant_id = as_of.tenant_id
    left join resolved
        on tickets.tenant_id = resolved.tenant_id
        and tickets.source_system = resolved.source_system
        and tickets.ticket_id = resolved.record_id
),

final as (
    select
        tenant_id,
        source_system,
        ticket_id,
        customer_id,
        contact_id,
        requester_email_normalized,
        subject,
        category,
        priority,
        status,
        channel,
        assignee_id,
        created_at,
        first_response_at,
        resolved_at,
        first_response_target_at,
        resolution_target_at,
        status in ('new', 'open', 'pending') as is_open,
        date_diff('second', created_at, first_response_at) / 60.0 as first_response_minutes,
        date_diff('second', created_at, resolved_at) / 3600.0 as resolution_hours,
        coalesce(first_response_at > first_response_target_at,
            first_response_at is null and as_of_at > first_response_target_at, false) as first_response_breached,
        coalesce(resolved_at > resolution_target_at,
            resolved_at is null and as_of_at > resolution_target_at, false) as resolution_breached
    from measured
)

select * from final
