{#- One row per tenant and customer: the golden record, lifecycle, consent, purchases,
    support, engagement, marketing, NPS and tags. Read by the API and the dashboards
    (through the serving snapshot, which copies it as a table).

    A view of three tables kept apart by how they change (D38):
    - int_customer_facts_summarized: what depends on the customer's own rows only (golden
      record, purchases, support, consents, engagement totals, firsts and lasts), kept
      incrementally per customer touched;
    - customer_lifecycle: the stage and when each was entered, rows written when they change;
    - int_customer_measures_as_of: what moves with every load (RFM ranks and recency, the
      7/30/90-day windows, breaches of open tickets, last activity, segment, tags),
      rebuilt in full.
    Every customer of the facts has a row in the other two. -#}
{{ config(materialized='view') }}

with

facts as not materialized (select * from {{ ref('int_customer_facts_summarized') }}),
lifecycle as not materialized (select * from {{ ref('customer_lifecycle') }}),
measures as not materialized (select * from {{ ref('int_customer_measures_as_of') }}),

final as (
    select
        facts.tenant_id,
        facts.customer_id,
        facts.first_name,
        facts.last_name,
        facts.email,
        facts.phone,
        facts.company,
        facts.job_title,
        facts.street,
        facts.city,
        facts.postal_code,
        facts.country,
        facts.date_of_birth,
        facts.user_id,
        facts.account_id,
        facts.account_name,
        facts.account_industry,
        facts.owner_id,
        facts.source_records,
        facts.sources,
        lifecycle.lifecycle_stage,
        lifecycle.visitor_at,
        lifecycle.lead_at,
        lifecycle.mql_at,
        lifecycle.sql_at,
        lifecycle.opportunity_at,
        lifecycle.customer_at,
        lifecycle.churned_at,
        facts.email_marketing_consent,
        facts.sms_marketing_consent,
        facts.whatsapp_marketing_consent,
        facts.phone_marketing_consent,
        facts.push_marketing_consent,
        facts.consents,
        facts.order_count,
        facts.total_revenue,
        facts.refunded_orders,
        facts.first_order_at,
        facts.last_order_at,
        measures.recency_days,
        facts.order_count as frequency,
        facts.total_revenue as monetary,
        measures.rfm_recency_score,
        measures.rfm_frequency_score,
        measures.rfm_monetary_score,
        facts.active_subscriptions,
        facts.past_due_subscriptions,
        facts.mrr,
        facts.ticket_count,
        facts.open_tickets,
        measures.sla_breaches,
        facts.last_ticket_at,
        measures.sessions_count,
        measures.sessions_30d,
        measures.last_seen_at,
        measures.events_7d,
        measures.events_30d,
        measures.events_90d,
        facts.campaign_touches,
        facts.campaigns_touched,
        facts.last_campaign_touch_at,
        facts.latest_nps_score,
        facts.latest_nps_at,
        facts.first_seen_at,
        measures.last_activity_at,
        measures.rfm_segment,
        measures.tags
    from facts
    left join lifecycle using (tenant_id, customer_id)
    left join measures using (tenant_id, customer_id)
)

select * from final
