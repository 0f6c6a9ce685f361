{#- One row per campaign: audience, email funnel (distinct recipients sent, delivered,
    opened, clicked, bounced, unsubscribed), responses, conversions (members who became
    customers within var('attribution_lookback_days') after joining) and attributed won
    revenue under each attribution model. Dashboards roll it up by channel. -#}
with

campaigns as not materialized (select * from {{ ref('stg_crm__campaigns') }}),
members as not materialized (select * from {{ ref('stg_crm__campaign_members') }}),
email_activity as not materialized (select * from {{ ref('stg_crm__email_activity') }}),
resolved as not materialized (select * from {{ ref('int_identity_records_resolved') }} where entity = 'campaign_members'),
lifecycle as not materialized (select * from {{ ref('customer_lifecycle') }}),
attribution as not materialized (select * from {{ ref('revenue_attribution') }}),

email_funnel as (
    select
        tenant_id,
        campaign_id,
        {% for activity in ['sent', 'delivered', 'opened', 'clicked', 'bounced', 'unsubscribed'] %}
        count(distinct coalesce(email_normalized, contact_id)) filter (where activity_type = '{{ activity }}')
            as {{ activity }},
        {% endfor %}
    from email_activity
    group by all
),

audience as (
    select
        members.tenant_id,
        members.campaign_id,
        count(*) as members,
        count(*) filter (where members.first_responded_at is not null or members.status = 'responded') as responded,
        count(distinct resolved.customer_id) filter (
            where lifecycle.customer_at >= members.added_at
            and lifecycle.customer_at < members.added_at + interval '{{ var("attribution_lookback_days") }} days'
        ) as converted
    from members
    left join resolved
        on members.tenant_id = resolved.tenant_id
        and members.source_system = resolved.source_system
        and members.campaign_member_id = resolved.record_id
    left join lifecycle
        on resolved.tenant_id = lifecycle.tenant_id and resolved.customer_id = lifecycle.customer_id
    group by all
),

revenue as (
    select
        tenant_id,
        campaign_id,
        sum(first_touch_revenue) as first_touch_revenue,
        sum(last_touch_revenue) as last_touch_revenue,
        sum(linear_revenue) as linear_revenue,
        sum(position_based_revenue) as position_based_revenue
    from attribution
    group by all
),

final as (
    select
        campaigns.tenant_id,
        campaigns.campaign_id,
        campaigns.campaign_name,
        campaigns.channel,
        campaigns.status,
        campaigns.start_date,
        campaigns.end_date,
        campaigns.budget,
        coalesce(audience.members, 0) as members,
        {% for activity in ['sent', 'delivered', 'opened', 'clicked', 'bounced', 'unsubscribed'] %}
        coalesce(email_funnel.{{ activity }}, 0) as {{ activity }},
        {% endfor %}
        coalesce(audience.responded, 0) as responded,
        coalesce(audience.converted, 0) as converted,
        coalesce(revenue.first_touch_revenue, 0) as first_touch_revenue,
        coalesce(revenue.last_touch_revenue, 0) as last_touch_revenue,
        coalesce(revenue.linear_revenue, 0) as linear_revenue,
        coalesce(revenue.position_based_revenue, 0) as position_based_revenue,
        coalesce(email_funnel.opened, 0)::double / nullif(email_funnel.delivered, 0) as open_rate,
        coalesce(email_funnel.clicked, 0)::double / nullif(email_funnel.delivered, 0) as click_rate,
        coalesce(audience.converted, 0)::double / nullif(audience.members, 0) as conversion_rate
    from campaigns
    left join email_funnel using (tenant_id, campaign_id)
    left join audience using (tenant_id, campaign_id)
    left join revenue using (tenant_id, campaign_id)
)

select * from final
