{#- When each customer entered each lifecycle stage, and the stage they are in (a mart:
    the funnel, campaign conversions and customer_360 read it, and so can dashboards).

    Visitor: first event. Lead: first person record (contact or lead). MQL / SQL: the
    lead's mql_at / sql_at. Opportunity: first opportunity created. Customer: first
    completed order, subscription start or won opportunity. Churned: a customer with no
    active or past-due subscription whose subscriptions were all cancelled (at the last
    cancellation), or a buyer without subscriptions whose last order is more than
    var('churn_inactivity_days') before the as-of time (at that point). The current stage
    is the furthest one reached. -#}
{#- Incremental: every row is computed, only those that changed are written (macro
    changed_rows_only); the post-hook deletes customers no longer in the registry. -#}
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=['tenant_id', 'customer_id'],
        post_hook=[
            "{% if is_incremental() %}delete from {{ this }} as lifecycle where not exists (
                select 1 from {{ ref('int_customer_facts_summarized') }} as facts
                where facts.tenant_id = lifecycle.tenant_id and facts.customer_id = lifecycle.customer_id){% endif %}"
        ],
    )
}}
with

facts as not materialized (select * from {{ ref('int_customer_facts_summarized') }}),
as_of as not materialized (select * from {{ ref('int_tenants_as_of') }}),

-- The entry times are per customer (int_customer_facts_summarized, incremental); only
-- churn moves with the as-of time, so this is a cheap step over every customer.
stages as (
    select
        facts.tenant_id,
        facts.customer_id,
        facts.visitor_at,
        facts.lead_at,
        facts.mql_at,
        facts.sql_at,
        facts.opportunity_at,
        facts.customer_at,
        facts.last_order_at,
        facts.subscriptions,
        facts.live_subscriptions,
        facts.last_cancelled_at,
        as_of.as_of_at
    from facts
    left join as_of using (tenant_id)
),

churn as (
    select
        *,
        case
            when customer_at is null then null
            when coalesce(live_subscriptions, 0) > 0 then null
            when coalesce(subscriptions, 0) > 0 then last_cancelled_at
            when last_order_at < as_of_at - interval '{{ var("churn_inactivity_days") }} days'
                then last_order_at + interval '{{ var("churn_inactivity_days") }} days'
        end as churned_at
    from stages
),

computed as (
    select
        tenant_id,
        customer_id,
        case
            when churned_at is not null then 'Churned'
            when customer_at is not null then 'Customer'
            when opportunity_at is not null then 'Opportunity'
            when sql_at is not null then 'SQL'
            when mql_at is not null then 'MQL'
            when lead_at is not null then 'Lead'
            else 'Visitor'
        end as lifecycle_stage,
        visitor_at,
        lead_at,
        mql_at,
        sql_at,
        opportunity_at,
        customer_at,
        churned_at
    from churn
)

{{ changed_rows_only(['tenant_id', 'customer_id']) }}
