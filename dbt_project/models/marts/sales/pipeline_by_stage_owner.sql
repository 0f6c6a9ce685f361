{#- The open pipeline now, by stage and owner: count, amount and weighted amount. -#}
with

opportunities as not materialized (select * from {{ ref('opportunities') }} where not is_closed),

final as (
    select
        tenant_id,
        stage,
        any_value(stage_order) as stage_order,
        owner_id,
        count(*) as open_opportunities,
        coalesce(sum(amount), 0) as pipeline_amount,
        coalesce(sum(weighted_amount), 0) as weighted_pipeline_amount
    from opportunities
    group by tenant_id, stage, owner_id
)

select * from final
