{#- Each stage an opportunity went through, with when it entered and left it. Stage
    history rows come first; an opportunity without history is in its current stage since
    created_at (and closed ones since closed_at). -#}
with

opportunities as not materialized (select * from {{ ref('stg_crm__opportunities') }}),
history as not materialized (select * from {{ ref('stg_crm__opportunity_stage_history') }}),

entries as (
    select tenant_id, opportunity_id, stage, entered_at
    from history
    union
    select tenant_id, opportunity_id, stage, coalesce(closed_at, created_at)
    from opportunities
    where not exists (
        select 1 from history
        where history.tenant_id = opportunities.tenant_id
            and history.opportunity_id = opportunities.opportunity_id
    )
),

final as (
    select
        tenant_id,
        opportunity_id,
        stage,
        entered_at,
        lead(entered_at) over stage_order as exited_at,
        row_number() over stage_order as stage_sequence
    from entries
    window stage_order as (partition by tenant_id, opportunity_id order by entered_at, stage)
)

select * from final
