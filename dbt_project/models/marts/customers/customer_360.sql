{#- One row per tenant and customer: the golden record, lifecycle, consent, purchases,
    support, engagement, marketing, NPS and tags. Read by the API and the dashboards. -#}
with

customers as not materialized (select distinct tenant_id, customer_id from {{ ref('int_identity_customer_ids_assigned') }}),
profiles as not materialized (select * from {{ ref('int_customer_profiles_survived') }}),
lifecycle as not materialized (select * from {{ ref('customer_lifecycle') }}),
resolved as not materialized (select * from {{ ref('int_identity_records_resolved') }} where customer_id is not null),
orders as not materialized (select * from {{ ref('stg_crm__orders') }}),
subscriptions as not materialized (select * from {{ ref('stg_crm__subscriptions') }}),
consents as not materialized (select * from {{ ref('stg_crm__consents') }}),
nps as not materialized (select * from {{ ref('stg_crm__nps_responses') }}),
tickets as not materialized (select * from {{ ref('int_tickets_sla_measured') }}),
touches as not materialized (select * from {{ ref('int_campaign_touches_collected') }}),
events as not materialized (select * from {{ ref('fct_events') }} where customer_id is not null),
sessions as not materialized (select * from {{ ref('fct_sessions') }} where customer_id is not null),
as_of as not materialized (select * from {{ ref('int_tenants_as_of') }}),

purchases as (
    select
        resolved.tenant_id,
        resolved.customer_id,
        count(*) filter (where orders.status = 'completed') as order_count,
        coalesce(sum(orders.amount) filter (where orders.status = 'completed'), 0) as total_revenue,
        count(*) filter (where orders.status = 'refunded') as refunded_orders,
        min(orders.ordered_at) filter (where orders.status = 'completed') as first_order_at,
        max(orders.ordered_at) filter (where orders.status = 'completed') as last_order_at
    from orders
    inner join resolved
        on resolved.entity = 'orders' and orders.tenant_id = resolved.tenant_id
        and orders.source_system = resolved.source_system and orders.order_id = resolved.record_id
    group by all
),

subscription_summary as (
    select
        resolved.tenant_id,
        resolved.customer_id,
        count(*) filter (where subscriptions.status = 'active') as active_subscriptions,
        count(*) filter (where subscriptions.status = 'past_due') as past_due_subscriptions,
        coalesce(sum(subscriptions.mrr) filter (where subscriptions.status in ('active', 'past_due')), 0) as mrr
    from subscriptions
    inner join resolved
        on resolved.entity = 'subscriptions' and subscriptions.tenant_id = resolved.tenant_id
        and subscriptions.source_system = resolved.source_system
        and subscriptions.subscription_id = resolved.record_id
    group by all
),

latest_consents as (
    select
        resolved.tenant_id,
        resolved.customer_id,
        consents.channel,
        consents.purpose,
        arg_max(consents.status, consents.occurred_at) as status,
        max(consents.occurred_at) as occurred_at
    from consents
    inner join resolved
        on resolved.entity = 'consents' and consents.tenant_id = resolved.tenant_id
        and consents.source_system = resolved.source_system and consents.consent_id = resolved.record_id
    group by all
),

-- Keys in order (json_group_object keeps the order rows arrive in), so that the same
-- consents give the same JSON in every build.
consent_channels as (
    select tenant_id, customer_id, channel, to_json(map(list(purpose order by purpose), list(status order by purpose))) as purposes
    from latest_consents
    group by all
),

consent_objects as (
    select tenant_id, customer_id, to_json(map(list(channel order by channel), list(purposes order by channel))) as consents
    from consent_channels
    group by all
),

consent_summary as (
    select
        latest_consents.tenant_id,
        latest_consents.customer_id,
        {% for channel in ['email', 'sms', 'whatsapp', 'phone', 'push'] %}
        coalesce(
            any_value(status) filter (where channel = '{{ channel }}' and purpose = 'marketing'), 'unknown'
        ) as {{ channel }}_marketing_consent,
        {% endfor %}
        any_value(consent_objects.consents) as consents
    from latest_consents
    left join consent_objects using (tenant_id, customer_id)
    group by all
),

support as (
    select
        tenant_id,
        customer_id,
        count(*) as ticket_count,
        count(*) filter (where is_open) as open_tickets,
        count(*) filter (where first_response_breached or resolution_breached) as sla_breaches,
        max(created_at) as last_ticket_at
    from tickets
    where customer_id is not null
    group by all
),

engagement as (
    select
        events.tenant_id,
        events.customer_id,
        max(events.occurred_at) as last_seen_at,
        count(*) filter (where events.occurred_at > as_of.as_of_at - interval 7 days) as events_7d,
        count(*) filter (where events.occurred_at > as_of.as_of_at - interval 30 days) as events_30d,
        count(*) filter (where events.occurred_at > as_of.as_of_at - interval 90 days) as events_90d
    from events
    inner join as_of on events.tenant_id = as_of.tenant_id
    group by all
),

session_summary as (
    select
        sessions.tenant_id,
        sessions.customer_id,
        count(*) as sessions_count,
        count(*) filter (where sessions.started_at > as_of.as_of_at - interval 30 days) as sessions_30d
    from sessions
    inner join as_of on sessions.tenant_id = as_of.tenant_id
    group by all
),

campaign_summary as (
    select
        tenant_id,
        customer_id,
        count(*) as campaign_touches,
        count(distinct campaign_id) as campaigns_touched,
        max(touched_at) as last_campaign_touch_at
    from touches
    group by all
),

latest_nps as (
    select
        resolved.tenant_id,
        resolved.customer_id,
        arg_max(nps.score, nps.responded_at) as latest_nps_score,
        max(nps.responded_at) as latest_nps_at
    from nps
    inner join resolved
        on resolved.entity = 'nps_responses' and nps.tenant_id = resolved.tenant_id
        and nps.source_system = resolved.source_system and nps.nps_response_id = resolved.record_id
    where nps.survey_type = 'nps'
    group by all
),

rfm as (
    select
        purchases.*,
        date_diff('day', purchases.last_order_at, as_of.as_of_at) as recency_days,
        6 - ntile(5) over (partition by purchases.tenant_id order by purchases.last_order_at desc) as recency_score_raw,
        ntile(5) over (partition by purchases.tenant_id order by purchases.order_count) as frequency_score,
        ntile(5) over (partition by purchases.tenant_id order by purchases.total_revenue) as monetary_score
    from purchases
    inner join as_of on purchases.tenant_id = as_of.tenant_id
    where purchases.order_count > 0
),

joined as (
    select
        customers.tenant_id,
        customers.customer_id,
        profiles.first_name,
        profiles.last_name,
        profiles.email,
        profiles.phone,
        coalesce(profiles.account_name, profiles.company) as company,
        profiles.job_title,
        profiles.street,
        profiles.city,
        profiles.postal_code,
        profiles.country_code as country,
        profiles.date_of_birth,
        profiles.user_id,
        profiles.account_id,
        profiles.account_name,
        profiles.account_industry,
        coalesce(profiles.account_owner_id, profiles.owner_id) as owner_id,
        coalesce(profiles.source_records, 0) as source_records,
        profiles.sources,
        lifecycle.lifecycle_stage,
        lifecycle.visitor_at,
        lifecycle.lead_at,
        lifecycle.mql_at,
        lifecycle.sql_at,
        lifecycle.opportunity_at,
        lifecycle.customer_at,
        lifecycle.churned_at,
        coalesce(consent_summary.email_marketing_consent, 'unknown') as email_marketing_consent,
        coalesce(consent_summary.sms_marketing_consent, 'unknown') as sms_marketing_consent,
        coalesce(consent_summary.whatsapp_marketing_consent, 'unknown') as whatsapp_marketing_consent,
        coalesce(consent_summary.phone_marketing_consent, 'unknown') as phone_marketing_consent,
        coalesce(consent_summary.push_marketing_consent, 'unknown') as push_marketing_consent,
        coalesce(consent_summary.consents, '{}'::json) as consents,
        coalesce(purchases.order_count, 0) as order_count,
        coalesce(purchases.total_revenue, 0) as total_revenue,
        coalesce(purchases.refunded_orders, 0) as refunded_orders,
        purchases.first_order_at,
        purchases.last_order_at,
        rfm.recency_days,
        coalesce(purchases.order_count, 0) as frequency,
        coalesce(purchases.total_revenue, 0) as monetary,
        rfm.recency_score_raw as rfm_recency_score,
        rfm.frequency_score as rfm_frequency_score,
        rfm.monetary_score as rfm_monetary_score,
        coalesce(subscription_summary.active_subscriptions, 0) as active_subscriptions,
        coalesce(subscription_summary.past_due_subscriptions, 0) as past_due_subscriptions,
        coalesce(subscription_summary.mrr, 0) as mrr,
        coalesce(support.ticket_count, 0) as ticket_count,
        coalesce(support.open_tickets, 0) as open_tickets,
        coalesce(support.sla_breaches, 0) as sla_breaches,
        support.last_ticket_at,
        coalesce(session_summary.sessions_count, 0) as sessions_count,
        coalesce(session_summary.sessions_30d, 0) as sessions_30d,
        engagement.last_seen_at,
        coalesce(engagement.events_7d, 0) as events_7d,
        coalesce(engagement.events_30d, 0) as events_30d,
        coalesce(engagement.events_90d, 0) as events_90d,
        coalesce(campaign_summary.campaign_touches, 0) as campaign_touches,
        coalesce(campaign_summary.campaigns_touched, 0) as campaigns_touched,
        campaign_summary.last_campaign_touch_at,
        latest_nps.latest_nps_score,
        latest_nps.latest_nps_at,
        least(profiles.first_record_at, lifecycle.visitor_at) as first_seen_at,
        greatest(engagement.last_seen_at, purchases.last_order_at, support.last_ticket_at,
            campaign_summary.last_campaign_touch_at, latest_nps.latest_nps_at) as last_activity_at
    from customers
    left join profiles using (tenant_id, customer_id)
    left join lifecycle using (tenant_id, customer_id)
    left join consent_summary using (tenant_id, customer_id)
    left join purchases using (tenant_id, customer_id)
    left join rfm using (tenant_id, customer_id)
    left join subscription_summary using (tenant_id, customer_id)
    left join support using (tenant_id, customer_id)
    left join session_summary using (tenant_id, customer_id)
    left join engagement using (tenant_id, customer_id)
    left join campaign_summary using (tenant_id, customer_id)
    left join latest_nps using (tenant_id, customer_id)
),

final as (
    select
        *,
        case
            when rfm_recency_score is null then null
            when rfm_recency_score >= 4 and rfm_frequency_score >= 4 then 'champions'
            when rfm_recency_score >= 3 and rfm_frequency_score >= 3 then 'loyal'
            when rfm_recency_score >= 4 then 'new_or_promising'
            when rfm_recency_score <= 2 and rfm_frequency_score >= 3 then 'at_risk'
            else 'hibernating'
        end as rfm_segment,
        list_filter([
            case when lifecycle_stage = 'Customer' and rfm_monetary_score = 5 then 'high_value' end,
            case when active_subscriptions > 0 then 'subscriber' end,
            case when past_due_subscriptions > 0 then 'payment_issue' end,
            case when open_tickets > 0 then 'open_ticket' end,
            case when sla_breaches > 0 then 'sla_breached' end,
            case when latest_nps_score >= 9 then 'promoter' end,
            case when latest_nps_score <= 6 then 'detractor' end,
            case when email_marketing_consent = 'granted' then 'email_opt_in' end,
            case when events_30d = 0 and lifecycle_stage in ('Customer', 'Opportunity') then 'inactive_30d' end,
            case when user_id is null and source_records = 0 then 'anonymous' end
        ], tag -> tag is not null) as tags
    from joined
)

select * from final
