{#- The open pipeline as it stood at the end of each day, rebuilt from stage history: per
    tenant, day and stage, the opportunities in that stage, their amount and weighted
    amount (the stage's default probability, as the rep's figure is not historised). Each
    open stage span is expanded into the days it covered (output-sized). -#}
with

spans as not materialized (select * from {{ ref('int_opportunity_stages_spanned') }}),
opportunities as not materialized (select * from {{ ref('stg_crm__opportunities') }}),
stages as not materialized (select * from {{ ref('opportunity_stages') }}),
as_of as not materialized (select * from {{ ref('int_tenants_as_of') }}),

span_days as (
    select
        spans.tenant_id,
        spans.stage,
        opportunities.amount,
        stages.default_probability,
        -- in the stage at the end of each day from the day it entered to the day before it left
        unnest(generate_series(
            spans.entered_at::date,
            coalesce(spans.exited_at::date - 1, as_of.as_of_at::date),
            interval 1 day
        ))::date as snapshot_date
    from spans
    inner join stages on spans.stage = stages.stage and not stages.is_closed
    inner join opportunities
        on spans.tenant_id = opportunities.tenant_id and spans.opportunity_id = opportunities.opportunity_id
    inner join as_of on spans.tenant_id = as_of.tenant_id
),

final as (
    select
        tenant_id,
        snapshot_date,
        stage,
        count(*) as open_opportunities,
        coalesce(sum(amount), 0) as pipeline_amount,
        coalesce(sum(amount * default_probability), 0) as weighted_pipeline_amount
    from span_days
    group by all
)

select * from final
