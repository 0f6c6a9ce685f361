{#- Per tenant, day and priority: tickets created, resolved, and open at the end of the day,
    and how many of those open ones were past their resolution target. Each ticket is
    expanded into the days it was open (output-sized, no days x tickets join). A ticket
    closed without a resolution time is not counted as open. -#}
with

tickets as not materialized (select * from {{ ref('int_tickets_sla_measured') }}),
as_of as not materialized (select * from {{ ref('int_tenants_as_of') }}),

created as (
    select tenant_id, created_at::date as backlog_date, priority, count(*) as created
    from tickets
    group by all
),

resolved as (
    select tenant_id, resolved_at::date as backlog_date, priority, count(*) as resolved
    from tickets
    where resolved_at is not null
    group by all
),

open_days as (
    select
        tickets.tenant_id,
        tickets.priority,
        tickets.resolution_target_at,
        unnest(generate_series(
            tickets.created_at::date,
            -- open at the end of every day before the one it was resolved on
            coalesce(tickets.resolved_at::date - 1, as_of.as_of_at::date),
            interval 1 day
        ))::date as backlog_date
    from tickets
    inner join as_of on tickets.tenant_id = as_of.tenant_id
    where tickets.resolved_at is not null or tickets.is_open
),

open_counts as (
    select
        tenant_id,
        backlog_date,
        priority,
        count(*) as open_at_end_of_day,
        count(*) filter (where resolution_target_at < backlog_date + interval 1 day) as open_past_target
    from open_days
    group by all
),

final as (
    select
        tenant_id,
        backlog_date,
        priority,
        coalesce(created.created, 0) as created,
        coalesce(resolved.resolved, 0) as resolved,
        coalesce(open_counts.open_at_end_of_day, 0) as open_at_end_of_day,
        coalesce(open_counts.open_past_target, 0) as open_past_target
    from created
    full outer join resolved using (tenant_id, backlog_date, priority)
    full outer join open_counts using (tenant_id, backlog_date, priority)
)

select * from final
