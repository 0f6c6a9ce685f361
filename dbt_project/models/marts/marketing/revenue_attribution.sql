{#- Won revenue credited to the campaign touches before the win (within
    var('attribution_lookback_days') before closed_at), one row per won opportunity and
    touch, under four models: first touch (all to the first), last touch (all to the last),
    linear (equal shares) and position-based (40% first, 40% last, 20% shared by the
    middle; 50/50 with two touches, 100% with one). -#}
with

won as not materialized (
    select * from {{ ref('opportunities') }}
    where is_won and customer_id is not null and closed_at is not null
),
touches as not materialized (select * from {{ ref('int_campaign_touches_collected') }}),

eligible as (
    select
        won.tenant_id,
        won.opportunity_id,
        won.customer_id,
        won.amount,
        won.closed_at,
        touches.campaign_id,
        touches.campaign_name,
        touches.channel,
        touches.touch_type,
        touches.touched_at,
        row_number() over by_opportunity as touch_number,
        count(*) over (partition by won.tenant_id, won.opportunity_id) as touches_total
    from won
    inner join touches
        on won.tenant_id = touches.tenant_id
        and won.customer_id = touches.customer_id
        and touches.touched_at <= won.closed_at
        and touches.touched_at > won.closed_at - interval '{{ var("attribution_lookback_days") }} days'
    window by_opportunity as (
        partition by won.tenant_id, won.opportunity_id order by touches.touched_at, touches.source_record
    )
),

final as (
    select
        *,
        (touch_number = 1)::int::double as first_touch_credit,
        (touch_number = touches_total)::int::double as last_touch_credit,
        1.0 / touches_total as linear_credit,
        case
            when touches_total = 1 then 1.0
            when touches_total = 2 then 0.5
            when touch_number in (1, touches_total) then 0.4
            else 0.2 / (touches_total - 2)
        end::double as position_based_credit
    from eligible
)

select
    *,
    amount * first_touch_credit as first_touch_revenue,
    amount * last_touch_credit as last_touch_revenue,
    amount * linear_credit as linear_revenue,
    amount * position_based_credit as position_based_revenue
from final
