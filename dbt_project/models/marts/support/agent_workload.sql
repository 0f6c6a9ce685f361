{#- Per support agent: open tickets now (by priority weight), tickets solved in the last
    30 days, median first response and resolution, and SLA breaches in the last 30 days. -#}
with

tickets as not materialized (select * from {{ ref('int_tickets_sla_measured') }} where assignee_id is not null),
agents as not materialized (select * from {{ ref('stg_crm__users') }}),
as_of as not materialized (select * from {{ ref('int_tenants_as_of') }}),

final as (
    select
        tickets.tenant_id,
        tickets.assignee_id as agent_id,
        any_value(agents.user_name) as agent_name,
        any_value(agents.team) as team,
        count(*) filter (where tickets.is_open) as open_tickets,
        coalesce(sum(case tickets.priority when 'urgent' then 4 when 'high' then 3 when 'normal' then 2 else 1 end)
            filter (where tickets.is_open), 0)::bigint as open_workload_points,
        count(*) filter (where tickets.resolved_at > as_of.as_of_at - interval 30 days) as solved_30d,
        median(tickets.first_response_minutes) as median_first_response_minutes,
        median(tickets.resolution_hours) as median_resolution_hours,
        count(*) filter (where tickets.created_at > as_of.as_of_at - interval 30 days
            and (tickets.first_response_breached or tickets.resolution_breached)) as sla_breaches_30d
    from tickets
    inner join as_of on tickets.tenant_id = as_of.tenant_id
    left join agents on tickets.tenant_id = agents.tenant_id and tickets.assignee_id = agents.user_id
    group by tickets.tenant_id, tickets.assignee_id
)

select * from final
