{#- Campaign performance rolled up by tenant and channel (email, sms, social, whatsapp). -#}
with

campaigns as not materialized (
    select * from {{ ref('campaign_performance') }}
),

final as (
    select
        tenant_id,
        channel,
        count(*) as campaigns,
        coalesce(sum(budget), 0) as budget,
        sum(members)::bigint as members,
        sum(sent)::bigint as sent,
        sum(delivered)::bigint as delivered,
        sum(opened)::bigint as opened,
        sum(clicked)::bigint as clicked,
        sum(responded)::bigint as responded,
        sum(converted)::bigint as converted,
        sum(linear_revenue) as linear_revenue,
        sum(position_based_revenue) as position_based_revenue,
        sum(opened)::double / nullif(sum(delivered), 0) as open_rate,
        sum(clicked)::double / nullif(sum(delivered), 0) as click_rate,
        sum(converted)::double / nullif(sum(members), 0) as conversion_rate
    from campaigns
    group by tenant_id, channel
)

select * from final
