{#- Every source record that is about a person, and the customer it resolves to.

    Person records (contacts, leads) are nodes of the graph. Activity records resolve
    through the first of: their contact record, their lead record, their email, their
    phone (each of the same tenant; record ids within the row's source system).

    Incremental (delete+insert per record): a run resolves the records whose latest
    version was loaded since the last run, and re-resolves, from this table's stored
    `candidates`, the records whose resolution may have changed: one of their nodes got a
    customer_id in this run (new node, merge, split), or the node that resolved them left
    the graph (an identifier newly blocked). Nothing else changes a record's customer.
    Raw is append-only: a record leaves only by erasure, whose job deletes its rows from
    every table, this one included (warehouse/erasure.py). The watermarks are read first
    and inlined as literals. -#}
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=['tenant_id', 'entity', 'source_system', 'record_id'],
    )
}}

{#- A table built before this model was incremental has no candidates: resolve it all once. -#}
{%- set incremental_run = is_incremental()
    and 'candidates' in (adapter.get_columns_in_relation(this) | map(attribute='name') | map('lower') | list) %}
{%- set run_at = "'" ~ run_started_at.strftime('%Y-%m-%d %H:%M:%S.%f') ~ "'::timestamp" %}
{%- set loaded_watermark = "timestamp '1900-01-01'" %}
{%- set resolved_watermark = "timestamp '1900-01-01'" %}
{%- if execute and incremental_run %}
    {%- set marks = run_query("select max(loaded_at)::varchar, max(resolved_at)::varchar from " ~ this) %}
    {%- if marks.rows[0][0] %}{% set loaded_watermark = "timestamp '" ~ marks.rows[0][0] ~ "'" %}{% endif %}
    {%- if marks.rows[0][1] %}{% set resolved_watermark = "timestamp '" ~ marks.rows[0][1] ~ "'" %}{% endif %}
{%- endif %}
{%- set new_rows %}{% if incremental_run %} where loaded_at > {{ loaded_watermark }}{% endif %}{% endset %}

with

registry as not materialized (
    select tenant_id, node_key, customer_id, assigned_at from {{ ref('int_identity_customer_ids_assigned') }}
),

contacts as not materialized (select * from {{ ref('stg_crm__contacts') }}{{ new_rows }}),
leads as not materialized (select * from {{ ref('stg_crm__leads') }}{{ new_rows }}),
tickets as not materialized (select * from {{ ref('stg_crm__tickets') }}{{ new_rows }}),
campaign_members as not materialized (select * from {{ ref('stg_crm__campaign_members') }}{{ new_rows }}),
consents as not materialized (select * from {{ ref('stg_crm__consents') }}{{ new_rows }}),
nps_responses as not materialized (select * from {{ ref('stg_crm__nps_responses') }}{{ new_rows }}),
email_activity as not materialized (select * from {{ ref('stg_crm__email_activity') }}{{ new_rows }}),
orders as not materialized (select * from {{ ref('stg_crm__orders') }}{{ new_rows }}),
subscriptions as not materialized (select * from {{ ref('stg_crm__subscriptions') }}{{ new_rows }}),
opportunities as not materialized (select * from {{ ref('stg_crm__opportunities') }}{{ new_rows }}),

records as (
    select tenant_id, 'contacts' as entity, source_system, contact_id as record_id,
        ['external_id:' || source_system || ':contacts:' || contact_id] as candidates,
        loaded_at
    from contacts
    union all
    select tenant_id, 'leads', source_system, lead_id,
        ['external_id:' || source_system || ':leads:' || lead_id],
        loaded_at
    from leads
    union all
    select tenant_id, 'tickets', source_system, ticket_id,
        ['external_id:' || source_system || ':contacts:' || contact_id, 'email:' || requester_email_normalized],
        loaded_at
    from tickets
    union all
    select tenant_id, 'campaign_members', source_system, campaign_member_id,
        ['external_id:' || source_system || ':contacts:' || contact_id,
         'external_id:' || source_system || ':leads:' || lead_id,
         'email:' || email_normalized, 'phone:' || phone_e164],
        loaded_at
    from campaign_members
    union all
    select tenant_id, 'consents', source_system, consent_id,
        ['external_id:' || source_system || ':contacts:' || contact_id,
         'email:' || email_normalized, 'phone:' || phone_e164],
        loaded_at
    from consents
    union all
    select tenant_id, 'nps_responses', source_system, nps_response_id,
        ['external_id:' || source_system || ':contacts:' || contact_id, 'email:' || email_normalized],
        loaded_at
    from nps_responses
    union all
    select tenant_id, 'email_activity', source_system, email_activity_id,
        ['external_id:' || source_system || ':contacts:' || contact_id, 'email:' || email_normalized],
        loaded_at
    from email_activity
    union all
    select tenant_id, 'orders', source_system, order_id,
        ['external_id:' || source_system || ':contacts:' || contact_id],
        loaded_at
    from orders
    union all
    select tenant_id, 'subscriptions', source_system, subscription_id,
        ['external_id:' || source_system || ':contacts:' || contact_id],
        loaded_at
    from subscriptions
    union all
    select tenant_id, 'opportunities', source_system, opportunity_id,
        ['external_id:' || source_system || ':contacts:' || contact_id,
         'external_id:' || source_system || ':leads:' || lead_id],
        loaded_at
    from opportunities
),

{% if incremental_run %}
changed_nodes as (
    select tenant_id, node_key from registry where assigned_at > {{ resolved_watermark }}
),

stored as not materialized (
    select * from {{ this }}
),

touched as (
    select tenant_id, entity, source_system, record_id
    from (
        select tenant_id, entity, source_system, record_id, unnest(candidates) as node_key
        from stored
    ) as stored_candidates
    semi join changed_nodes
        on stored_candidates.tenant_id = changed_nodes.tenant_id
        and stored_candidates.node_key = changed_nodes.node_key
    union
    -- (a person record's node leaves the graph only with the record, by erasure, which
    -- deletes the record here too: only identifiers need the check, 4% of the records)
    select tenant_id, entity, source_system, record_id
    from stored
    anti join registry
        on stored.tenant_id = registry.tenant_id and stored.resolved_node_key = registry.node_key
    where stored.resolved_node_key is not null and stored.resolved_by <> 'external_id'
),

re_resolved as (
    select stored.tenant_id, stored.entity, stored.source_system, stored.record_id,
        stored.candidates, stored.loaded_at
    from stored
    semi join touched
        on stored.tenant_id = touched.tenant_id
        and stored.entity = touched.entity
        and stored.source_system = touched.source_system
        and stored.record_id = touched.record_id
    anti join records
        on stored.tenant_id = records.tenant_id
        and stored.entity = records.entity
        and stored.source_system = records.source_system
        and stored.record_id = records.record_id
),

to_resolve as materialized (
    select * from records
    union all
    select * from re_resolved
),

-- The registry rows the candidates can meet: joined as a whole, DuckDB built a hash table
-- of all 5.6M nodes for each of the last three candidate joins (it took the joined side
-- for the larger), 6 of the 8 s an incremental run took at the large scale.
candidate_registry as materialized (
    select registry.*
    from registry
    semi join (select tenant_id, unnest(candidates) as node_key from to_resolve) as wanted
        on registry.tenant_id = wanted.tenant_id and registry.node_key = wanted.node_key
),
{% else %}
to_resolve as (
    select * from records
),

candidate_registry as not materialized (
    select * from registry
),
{% endif %}

-- A record has at most four candidates: a left join per position, then the first that
-- resolved (a join and a group by over every candidate cost twice as much at the large scale).
matched as (
    select
        to_resolve.*,
        coalesce(first.customer_id, second.customer_id, third.customer_id, fourth.customer_id) as customer_id,
        coalesce(first.node_key, second.node_key, third.node_key, fourth.node_key) as resolved_node_key
    from to_resolve
    left join candidate_registry as first
        on to_resolve.tenant_id = first.tenant_id and to_resolve.candidates[1] = first.node_key
    left join candidate_registry as second
        on to_resolve.tenant_id = second.tenant_id and to_resolve.candidates[2] = second.node_key
    left join candidate_registry as third
        on to_resolve.tenant_id = third.tenant_id and to_resolve.candidates[3] = third.node_key
    left join candidate_registry as fourth
        on to_resolve.tenant_id = fourth.tenant_id and to_resolve.candidates[4] = fourth.node_key
),

final as (
    select
        matched.tenant_id,
        matched.entity,
        matched.source_system,
        matched.record_id,
        matched.customer_id,
        split_part(matched.resolved_node_key, ':', 1) as resolved_by,
        matched.resolved_node_key,
        matched.candidates,
        matched.loaded_at,
        {{ run_at }} as resolved_at,
        -- the customer the record resolved to before this run: a record can move with no
        -- node moving (its identifier newly blocked), and the customer it left changed too
        {% if incremental_run %}stored_before.customer_id{% else %}null::varchar{% endif %} as previous_customer_id
    from matched
    {% if incremental_run %}
    left join stored as stored_before
        on matched.tenant_id = stored_before.tenant_id
        and matched.entity = stored_before.entity
        and matched.source_system = stored_before.source_system
        and matched.record_id = stored_before.record_id
    {% endif %}
)

select * from final
