{#- Per customer, everything customer_360 and customer_lifecycle say that depends on that
    customer's own rows only and not on the as-of time: the golden record, lifecycle entry
    times, consents, purchases, subscriptions, support, sessions, events, campaign touches,
    the latest NPS. What moves with every load (RFM ranks, recency, 7/30/90-day windows,
    SLA breaches of tickets still open, churn of one-off buyers) is left to those marts,
    which are cheap steps over this table.

    Incremental (delete+insert per customer), two ways:
    - recomputed: the customers touched since the last run (macro customers_touched_since:
      a new or re-resolved record, an id change), those whose golden record was rebuilt
      (an account update), those an event was stitched to again (its customer changed),
      and new customers;
    - extended: a customer with nothing new but events (most of a load's customers: 1% more
      events reach a fifth of them) keeps its stored row, with the new events' first and
      last time merged in and its sessions counted again. Recomputing those rescanned
      every record and event of a fifth of the customers on every load.
    A recomputed customer no longer in the registry (merged away, its nodes gone) is
    deleted by the post-hook; an erasure deletes its rows like any model table's. Changing
    the sla_targets or source_trust seed needs a --full-refresh. -#}
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=['tenant_id', 'customer_id'],
        pre_hook=["{{ stage_customer_facts_changes() }}"],
        post_hook=[
            "{{ delete_customers_merged_away() }}",
            "{{ drop_customer_facts_changes() }}",
        ],
    )
}}

{%- set watermark = built_watermark() %}
{%- set incremental_run = watermark.incremental %}
{%- set run_at = "'" ~ run_started_at.strftime('%Y-%m-%d %H:%M:%S.%f') ~ "'::timestamp" %}
{#- Filtered to the touched customers, each input is small: computed once. -#}
{%- set cte = 'materialized' if incremental_run else 'not materialized' %}

with

{% if incremental_run %}
{#- Staged by the pre-hook (macro stage_customer_facts_changes) as temporary tables. -#}
touched as not materialized (select * from customer_facts_touched),
extended as not materialized (select * from customer_facts_extended),
{% endif %}

customers as {{ cte }} (
    select distinct registry.tenant_id, registry.customer_id
    from {{ ref('int_identity_customer_ids_assigned') }} as registry
    {{ touched_only('registry', incremental_run) }}
),
resolved as {{ cte }} (
    select resolved.tenant_id, resolved.entity, resolved.source_system, resolved.record_id, resolved.customer_id
    from {{ ref('int_identity_records_resolved') }} as resolved
    {{ touched_only('resolved', incremental_run) }}
    where resolved.customer_id is not null
        and resolved.entity in ('contacts', 'leads', 'opportunities', 'orders', 'subscriptions', 'consents', 'nps_responses')
),
profiles as {{ cte }} (
    select * from {{ ref('int_customer_profiles_survived') }} as profiles {{ touched_only('profiles', incremental_run) }}
),
tickets as {{ cte }} (
    select * from {{ ref('int_tickets_sla_measured') }} as tickets {{ touched_only('tickets', incremental_run) }}
    where tickets.customer_id is not null
),
touches as {{ cte }} (
    select * from {{ ref('int_campaign_touches_collected') }} as touches {{ touched_only('touches', incremental_run) }}
),
events as {{ cte }} (
    select events.tenant_id, events.customer_id, events.occurred_at
    from {{ ref('fct_events') }} as events {{ touched_only('events', incremental_run) }}
    where events.customer_id is not null
),
sessions as {{ cte }} (
    select sessions.tenant_id, sessions.customer_id
    from {{ ref('fct_sessions') }} as sessions {{ touched_only('sessions', incremental_run) }}
    where sessions.customer_id is not null
),
contacts as not materialized (select * from {{ ref('stg_crm__contacts') }}),
leads as not materialized (select * from {{ ref('stg_crm__leads') }}),
opportunities as not materialized (select * from {{ ref('stg_crm__opportunities') }}),
orders as not materialized (select * from {{ ref('stg_crm__orders') }}),
subscriptions as not materialized (select * from {{ ref('stg_crm__subscriptions') }}),
consents as not materialized (select * from {{ ref('stg_crm__consents') }}),
nps as not materialized (select * from {{ ref('stg_crm__nps_responses') }}),

lead_times as (
    select resolved.tenant_id, resolved.customer_id,
        min(coalesce(leads.created_at, leads.updated_at)) as lead_at, min(leads.mql_at) as mql_at, min(leads.sql_at) as sql_at
    from leads
    inner join resolved
        on resolved.entity = 'leads' and leads.tenant_id = resolved.tenant_id
        and leads.source_system = resolved.source_system and leads.lead_id = resolved.record_id
    group by all
),

contact_times as (
    select resolved.tenant_id, resolved.customer_id, min(coalesce(contacts.created_at, contacts.updated_at)) as contact_at
    from contacts
    inner join resolved
        on resolved.entity = 'contacts' and contacts.tenant_id = resolved.tenant_id
        and contacts.source_system = resolved.source_system and contacts.contact_id = resolved.record_id
    group by all
),

opportunity_times as (
    select resolved.tenant_id, resolved.customer_id,
        min(opportunities.created_at) as opportunity_at,
        min(opportunities.closed_at) filter (where opportunities.stage = 'closed_won') as won_at
    from opportunities
    inner join resolved
        on resolved.entity = 'opportunities' and opportunities.tenant_id = resolved.tenant_id
        and opportunities.source_system = resolved.source_system
        and opportunities.opportunity_id = resolved.record_id
    group by all
),

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
        min(subscriptions.started_at) as first_subscription_at,
        count(*) as subscriptions,
        count(*) filter (where subscriptions.status in ('active', 'past_due')) as live_subscriptions,
        max(subscriptions.cancelled_at) as last_cancelled_at,
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
-- consents give the same JSON in every build: a list of (key, value) sorted afterwards,
-- cheaper than two ordered aggregates per group.
consent_channels as (
    select tenant_id, customer_id, channel,
        to_json(map_from_entries(list_sort(list({'key': purpose, 'value': status})))) as purposes
    from latest_consents
    group by all
),

consent_objects as (
    select tenant_id, customer_id,
        to_json(map_from_entries(list_sort(list({'key': channel, 'value': purposes})))) as consents
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

-- A ticket is breached for good when a target was met late; one still unmet is breached
-- once the as-of time passes its earliest unmet target (int_tickets_sla_measured's rule,
-- split so that the as-of part is left to customer_360).
ticket_breaches as (
    select
        *,
        coalesce(first_response_at > first_response_target_at, false)
            or coalesce(resolved_at > resolution_target_at, false) as breached_for_good,
        least(
            case when first_response_at is null then first_response_target_at end,
            case when resolved_at is null then resolution_target_at end
        ) as breached_after
    from tickets
),

support as (
    select
        tenant_id,
        customer_id,
        count(*) as ticket_count,
        count(*) filter (where is_open) as open_tickets,
        count(*) filter (where breached_for_good) as sla_breaches_settled,
        list(breached_after order by breached_after)
            filter (where not breached_for_good and breached_after is not null) as sla_breach_due_at,
        max(created_at) as last_ticket_at
    from ticket_breaches
    group by all
),

event_times as (
    select tenant_id, customer_id, min(occurred_at) as visitor_at, max(occurred_at) as last_seen_at
    from events
    group by all
),

session_summary as (
    select tenant_id, customer_id, count(*) as sessions_count
    from sessions
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

final as (
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
        event_times.visitor_at,
        least(lead_times.lead_at, contact_times.contact_at) as lead_at,
        lead_times.mql_at,
        lead_times.sql_at,
        opportunity_times.opportunity_at,
        least(purchases.first_order_at, subscription_summary.first_subscription_at, opportunity_times.won_at)
            as customer_at,
        subscription_summary.subscriptions,
        subscription_summary.live_subscriptions,
        subscription_summary.last_cancelled_at,
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
        coalesce(subscription_summary.active_subscriptions, 0) as active_subscriptions,
        coalesce(subscription_summary.past_due_subscriptions, 0) as past_due_subscriptions,
        coalesce(subscription_summary.mrr, 0) as mrr,
        coalesce(support.ticket_count, 0) as ticket_count,
        coalesce(support.open_tickets, 0) as open_tickets,
        coalesce(support.sla_breaches_settled, 0) as sla_breaches_settled,
        coalesce(support.sla_breach_due_at, []) as sla_breach_due_at,
        support.last_ticket_at,
        coalesce(session_summary.sessions_count, 0) as sessions_count,
        event_times.last_seen_at,
        coalesce(campaign_summary.campaign_touches, 0) as campaign_touches,
        coalesce(campaign_summary.campaigns_touched, 0) as campaigns_touched,
        campaign_summary.last_campaign_touch_at,
        latest_nps.latest_nps_score,
        latest_nps.latest_nps_at,
        least(profiles.first_record_at, event_times.visitor_at) as first_seen_at,
        {{ run_at }} as built_at
    from customers
    left join profiles using (tenant_id, customer_id)
    left join event_times using (tenant_id, customer_id)
    left join lead_times using (tenant_id, customer_id)
    left join contact_times using (tenant_id, customer_id)
    left join opportunity_times using (tenant_id, customer_id)
    left join purchases using (tenant_id, customer_id)
    left join subscription_summary using (tenant_id, customer_id)
    left join consent_summary using (tenant_id, customer_id)
    left join support using (tenant_id, customer_id)
    left join session_summary using (tenant_id, customer_id)
    left join campaign_summary using (tenant_id, customer_id)
    left join latest_nps using (tenant_id, customer_id)
)

{% if incremental_run %}
, extended_sessions as (
    select sessions.tenant_id, sessions.customer_id, count(*) as sessions_count
    from {{ ref('fct_sessions') }} as sessions
    semi join extended
        on sessions.tenant_id = extended.tenant_id and sessions.customer_id = extended.customer_id
    group by all
),

extended_rows as (
    -- least/greatest skip nulls: a customer's first events arrive as any others
    select stored.* replace (
        least(stored.visitor_at, extended.first_event_at) as visitor_at,
        coalesce(extended_sessions.sessions_count, 0) as sessions_count,
        greatest(stored.last_seen_at, extended.last_event_at) as last_seen_at,
        least(stored.first_seen_at, extended.first_event_at) as first_seen_at,
        {{ run_at }} as built_at
    )
    from {{ this }} as stored
    inner join extended
        on stored.tenant_id = extended.tenant_id and stored.customer_id = extended.customer_id
    left join extended_sessions
        on stored.tenant_id = extended_sessions.tenant_id and stored.customer_id = extended_sessions.customer_id
)

select * from final
union all
select * from extended_rows
{% else %}
select * from final
{% endif %}
