{#- Every non-event interaction of a customer (orders, tickets, campaign touches, NPS,
    consents, lead and opportunity milestones, subscriptions), one row each;
    customer_timeline adds the events. `source_record` names the record a row comes from.

    Incremental at record grain (delete+insert on tenant and source_record): a run
    rewrites the rows of the records resolved since the last run (a new version, or a
    record re-resolved: its customer may have changed; int_identity_records_resolved is
    where every change of a record's customer shows) and the touches of campaigns updated
    since (the campaign name is their detail). Each rewritten record is also written as
    one row without occurred_at, which the post-hook deletes: so a record that now
    resolves to nobody loses its rows. -#}
-- depends_on: {{ ref('stg_crm__campaigns') }}
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=['tenant_id', 'source_record'],
        post_hook=["{% if is_incremental() %}delete from {{ this }} where occurred_at is null or source_record is null{% endif %}"],
    )
}}

{#- A table built before this model was incremental at record grain has no source_record:
    rebuild it all once (the post-hook then deletes its old rows, which have none). -#}
{%- set incremental_run = is_incremental()
    and 'source_record' in (adapter.get_columns_in_relation(this) | map(attribute='name') | map('lower') | list) %}
{%- set watermark = built_watermark() %}
{%- set run_at = "'" ~ run_started_at.strftime('%Y-%m-%d %H:%M:%S.%f') ~ "'::timestamp" %}
{%- set since = ' and resolved_at > ' ~ watermark.mark if incremental_run else '' %}

with

-- The records to (re)write: in an incremental run, those resolved since the last one
-- (a literal watermark on a plain column: the scan skips the older rows).
changed as {{ 'materialized' if incremental_run else 'not materialized' }} (
    select tenant_id, entity, source_system, record_id, customer_id
    from {{ ref('int_identity_records_resolved') }}
    where entity in ('orders', 'nps_responses', 'consents', 'leads', 'opportunities', 'subscriptions',
        'tickets', 'campaign_members', 'email_activity'){{ since }}
),
resolved as not materialized (
    select * from changed
    where customer_id is not null
        and entity in ('orders', 'nps_responses', 'consents', 'leads', 'opportunities', 'subscriptions')
),
tickets as not materialized (
    select tickets.*, 'tickets:' || tickets.source_system || ':' || tickets.ticket_id as source_record
    from {{ ref('int_tickets_sla_measured') }} as tickets
    {% if incremental_run %}
    -- the entity filtered before the join: in the join condition, a condition on one side
    -- only made this a nested loop (84 s at large scale, D33)
    semi join (select * from changed where entity = 'tickets') as changed_tickets
        on tickets.tenant_id = changed_tickets.tenant_id
        and tickets.source_system = changed_tickets.source_system and tickets.ticket_id = changed_tickets.record_id
    {% endif %}
    where tickets.customer_id is not null
),
{% if incremental_run %}
changed_touches as (
    select tenant_id, entity || ':' || record_id as source_record
    from changed
    where entity in ('campaign_members', 'email_activity')
    union
    select touches.tenant_id, touches.source_record
    from {{ ref('int_campaign_touches_collected') }} as touches
    semi join (
        select tenant_id, campaign_id from {{ ref('stg_crm__campaigns') }} where loaded_at > {{ watermark.mark }}
    ) as campaigns
        on touches.tenant_id = campaigns.tenant_id and touches.campaign_id = campaigns.campaign_id
),
{% endif %}
touches as not materialized (
    select touches.*
    from {{ ref('int_campaign_touches_collected') }} as touches
    {% if incremental_run %}
    semi join changed_touches
        on touches.tenant_id = changed_touches.tenant_id and touches.source_record = changed_touches.source_record
    {% endif %}
),
orders as not materialized (select * from {{ ref('stg_crm__orders') }}),
nps as not materialized (select * from {{ ref('stg_crm__nps_responses') }}),
consents as not materialized (select * from {{ ref('stg_crm__consents') }}),
leads as not materialized (select * from {{ ref('stg_crm__leads') }}),
opportunities as not materialized (select * from {{ ref('stg_crm__opportunities') }}),
subscriptions as not materialized (select * from {{ ref('stg_crm__subscriptions') }}),

activities as (
    select
        orders.tenant_id,
        resolved.customer_id,
        orders.ordered_at as occurred_at,
        orders.source_system as source,
        'order_' || orders.status as activity_type,
        printf('%.2f %s', orders.amount, coalesce(orders.currency, '')) as detail,
        'orders' as entity,
        orders.order_id as record_id,
        resolved.entity || ':' || resolved.source_system || ':' || resolved.record_id as source_record
    from orders
    inner join resolved on resolved.entity = 'orders' and orders.tenant_id = resolved.tenant_id
        and orders.source_system = resolved.source_system and orders.order_id = resolved.record_id
    union all
    select tenant_id, customer_id, unnest([created_at, resolved_at]), source_system,
        unnest(['ticket_opened', 'ticket_resolved']), coalesce(subject, category), 'tickets', ticket_id,
        source_record
    from tickets
    union all
    select tenant_id, customer_id, touched_at, 'marketing', touch_type, campaign_name, 'campaigns', campaign_id,
        source_record
    from touches
    union all
    select nps.tenant_id, resolved.customer_id, nps.responded_at, nps.source_system, nps.survey_type || '_response',
        nps.score::varchar, 'nps_responses', nps.nps_response_id, resolved.entity || ':' || resolved.source_system || ':' || resolved.record_id
    from nps
    inner join resolved on resolved.entity = 'nps_responses' and nps.tenant_id = resolved.tenant_id
        and nps.source_system = resolved.source_system and nps.nps_response_id = resolved.record_id
    union all
    select consents.tenant_id, resolved.customer_id, consents.occurred_at, consents.source_system,
        'consent_' || consents.status, consents.purpose || ' via ' || consents.channel, 'consents', consents.consent_id,
        resolved.entity || ':' || resolved.source_system || ':' || resolved.record_id
    from consents
    inner join resolved on resolved.entity = 'consents' and consents.tenant_id = resolved.tenant_id
        and consents.source_system = resolved.source_system and consents.consent_id = resolved.record_id
    union all
    select leads.tenant_id, resolved.customer_id, unnest([leads.created_at, leads.mql_at, leads.sql_at, leads.converted_at]),
        leads.source_system, unnest(['lead_created', 'lead_mql', 'lead_sql', 'lead_converted']),
        leads.lead_source, 'leads', leads.lead_id, resolved.entity || ':' || resolved.source_system || ':' || resolved.record_id
    from leads
    inner join resolved on resolved.entity = 'leads' and leads.tenant_id = resolved.tenant_id
        and leads.source_system = resolved.source_system and leads.lead_id = resolved.record_id
    union all
    select opportunities.tenant_id, resolved.customer_id, unnest([opportunities.created_at, opportunities.closed_at]),
        opportunities.source_system, unnest(['opportunity_created', 'opportunity_' || opportunities.stage]),
        opportunities.opportunity_name, 'opportunities', opportunities.opportunity_id, resolved.entity || ':' || resolved.source_system || ':' || resolved.record_id
    from opportunities
    inner join resolved on resolved.entity = 'opportunities' and opportunities.tenant_id = resolved.tenant_id
        and opportunities.source_system = resolved.source_system and opportunities.opportunity_id = resolved.record_id
    union all
    select subscriptions.tenant_id, resolved.customer_id, unnest([subscriptions.started_at, subscriptions.cancelled_at]),
        subscriptions.source_system, unnest(['subscription_started', 'subscription_cancelled']),
        subscriptions.product_id, 'subscriptions', subscriptions.subscription_id, resolved.entity || ':' || resolved.source_system || ':' || resolved.record_id
    from subscriptions
    inner join resolved on resolved.entity = 'subscriptions' and subscriptions.tenant_id = resolved.tenant_id
        and subscriptions.source_system = resolved.source_system and subscriptions.subscription_id = resolved.record_id
),

final as (
    select tenant_id, customer_id, occurred_at, source, activity_type, detail, entity, record_id, source_record,
        {{ run_at }} as built_at
    from activities
    where occurred_at is not null and customer_id is not null
    {% if incremental_run %}
    union all
    select tenant_id, null, null, null, null, null, null, null, entity || ':' || source_system || ':' || record_id, {{ run_at }}
    from changed
    where entity not in ('campaign_members', 'email_activity')
    union all
    select tenant_id, null, null, null, null, null, null, null, source_record, {{ run_at }}
    from changed_touches
    {% endif %}
)

select * from final
