{#- One row per ticket with its customer, first-response and resolution times, the SLA
    targets for its priority and whether each was breached. -#}
with

tickets as not materialized (select * from {{ ref('int_tickets_sla_measured') }}),
agents as not materialized (select * from {{ ref('stg_crm__users') }}),

final as (
    select
        tickets.tenant_id,
        tickets.ticket_id,
        tickets.source_system,
        tickets.customer_id,
        tickets.subject,
        tickets.category,
        tickets.priority,
        tickets.status,
        tickets.channel,
        tickets.assignee_id,
        agents.user_name as assignee_name,
        tickets.is_open,
        tickets.created_at,
        tickets.first_response_at,
        tickets.resolved_at,
        tickets.first_response_target_at,
        tickets.resolution_target_at,
        tickets.first_response_minutes,
        tickets.resolution_hours,
        tickets.first_response_breached,
        tickets.resolution_breached,
        tickets.first_response_breached or tickets.resolution_breached as sla_breached
    from tickets
    left join agents
        on tickets.tenant_id = agents.tenant_id
        and tickets.assignee_id = agents.user_id
)

select * from final
