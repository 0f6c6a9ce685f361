{#- Win rate by owner and the quarter deals closed in: won / (won + lost), by count and amount. -#}
with

closed as not materialized (select * from {{ ref('opportunities') }} where is_closed and closed_at is not null),

final as (
    select
        tenant_id,
        owner_id,
        date_trunc('quarter', closed_at)::date as close_quarter,
        count(*) filter (where is_won) as won,
        count(*) filter (where not is_won) as lost,
        count(*) filter (where is_won)::double / count(*) as win_rate,
        coalesce(sum(amount) filter (where is_won), 0) as won_amount,
        coalesce(sum(amount) filter (where is_won), 0) / nullif(sum(amount), 0) as win_rate_by_amount
    from closed
    group by all
)

select * from final
