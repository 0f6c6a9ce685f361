{#- One row per opportunity: its customer and account, amount and weighted amount, and the
    days it spent in each stage (stage history; open stages count to the as-of time). -#}
with

opportunities as not materialized (select * from {{ ref('stg_crm__opportunities') }}),
spans as not materialized (select * from {{ ref('int_opportunity_stages_spanned') }}),
stages as not materialized (select * from {{ ref('opportunity_stages') }}),
accounts as not materialized (select * from {{ ref('stg_crm__accounts') }}),
resolved as not materialized (select * from {{ ref('int_identity_records_resolved') }} where entity = 'opportunities'),
as_of as not materialized (select * from {{ ref('int_tenants_as_of') }}),

stage_days as (
    select
        spans.tenant_id,
        spans.opportunity_id,
        {% for stage in ['prospecting', 'qualification', 'proposal', 'negotiation'] %}
        sum(date_diff('second', spans.entered_at, coalesce(spans.exited_at, as_of.as_of_at)) / 86400.0)
            filter (where spans.stage = '{{ stage }}') as days_in_{{ stage }},
        {% endfor %}
        count(*) as stage_changes
    from spans
    inner join as_of on spans.tenant_id = as_of.tenant_id
    group by all
),

final as (
    select
        opportunities.tenant_id,
        opportunities.opportunity_id,
        opportunities.source_system,
        resolved.customer_id,
        opportunities.account_id,
        accounts.account_name,
        opportunities.contact_id,
        opportunities.lead_id,
        opportunities.owner_id,
        opportunities.opportunity_name,
        opportunities.stage,
        stages.stage_order,
        coalesce(stages.is_closed, false) as is_closed,
        coalesce(stages.is_won, false) as is_won,
        opportunities.amount,
        opportunities.currency,
        coalesce(opportunities.probability, stages.default_probability) as win_probability,
        case when not coalesce(stages.is_closed, false)
            then opportunities.amount * coalesce(opportunities.probability, stages.default_probability)
            else 0 end as weighted_amount,
        opportunities.close_date,
        opportunities.created_at,
        opportunities.closed_at,
        date_diff('second', opportunities.created_at,
            coalesce(opportunities.closed_at, as_of.as_of_at)) / 86400.0 as age_days,
        stage_days.days_in_prospecting,
        stage_days.days_in_qualification,
        stage_days.days_in_proposal,
        stage_days.days_in_negotiation,
        stage_days.stage_changes
    from opportunities
    left join stages on opportunities.stage = stages.stage
    left join accounts
        on opportunities.tenant_id = accounts.tenant_id
        and opportunities.source_system = accounts.source_system
        and opportunities.account_id = accounts.account_id
    left join resolved
        on opportunities.tenant_id = resolved.tenant_id
        and opportunities.source_system = resolved.source_system
        and opportunities.opportunity_id = resolved.record_id
    left join stage_days
        on opportunities.tenant_id = stage_days.tenant_id
        and opportunities.opportunity_id = stage_days.opportunity_id
    left join as_of on opportunities.tenant_id = as_of.tenant_id
)

select * from final
