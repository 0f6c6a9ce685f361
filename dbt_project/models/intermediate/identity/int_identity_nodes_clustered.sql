{#- Connected components of the identity graph, per tenant.

    Label propagation in one recursive CTE: every node starts with a label and takes the
    smallest label of its neighbours until nothing changes. `USING KEY (node_id)` keeps one
    row per node and feeds the next round only the nodes whose label just dropped, so the
    recursion ends exactly at convergence however long a chain is (no fixed number of
    rounds). Blocked identifiers are not nodes: they link nobody.

    Incremental: only components that may have changed are recomputed. A component of the
    previous run is *clean* when none of its nodes vanished, none is the end of an edge
    loaded since then, none is a person record loaded since then, and none changed its
    number of neighbours (an edge can only disappear by changing a degree). Clean
    components start with one shared label and stay as they were unless a new edge joins
    them to something; every other node starts alone, so splits are found. Everything is
    still one pass over the graph, but long propagation only runs where data changed.
    Changing the guards (vars, seed role_email_local_parts) changes edges without new
    data: rebuild this model with --full-refresh then (ids survive in the registry). -#}
{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        post_hook=[
            "delete from {{ this }} where clustered_at is null
                or clustered_at < (select max(clustered_at) from {{ this }})"
        ],
    )
}}

{%- set run_at = "'" ~ run_started_at.strftime('%Y-%m-%d %H:%M:%S.%f') ~ "'::timestamp" %}
{%- set watermark = "timestamp '1900-01-01'" %}
{%- set incremental_run = is_incremental()
    and 'degree' in (adapter.get_columns_in_relation(this) | map(attribute='name') | map('lower') | list) %}
{%- if execute and incremental_run %}
    {%- set marks = run_query("select max(edges_watermark)::varchar from " ~ this) %}
    {%- if marks.rows[0][0] %}{% set watermark = "timestamp '" ~ marks.rows[0][0] ~ "'" %}{% endif %}
{%- endif %}

with

edges as not materialized (
    select * from {{ ref('int_identity_edges_filtered') }}
),

all_edges as not materialized (
    select * from {{ ref('int_identity_edges_collected') }}
),

blocked as not materialized (
    select * from {{ ref('int_identity_identifiers_blocked') }}
),

contacts as not materialized (
    select * from {{ ref('stg_crm__contacts') }}
),

leads as not materialized (
    select * from {{ ref('stg_crm__leads') }}
),

events as not materialized (
    select * from {{ ref('stg_segment__events') }}
),

node_keys as (
    select tenant_id, node_a as node_key from all_edges
    union
    select tenant_id, node_b from all_edges
    union
    select tenant_id, 'external_id:' || source_system || ':contacts:' || contact_id from contacts
    union
    select tenant_id, 'external_id:' || source_system || ':leads:' || lead_id from leads
    union
    select tenant_id, 'user_id:' || user_id from events where user_id is not null
    union
    select tenant_id, 'anonymous_id:' || anonymous_id from events where anonymous_id is not null
),

nodes as (
    select
        node_keys.tenant_id,
        node_keys.node_key,
        row_number() over (order by node_keys.tenant_id, node_keys.node_key) as node_id
    from node_keys
    anti join blocked
        on node_keys.tenant_id = blocked.tenant_id
        and node_keys.node_key = blocked.node_key
),

numbered_edges as (
    select a.node_id as source_id, b.node_id as target_id, max(edges.last_loaded_at) as last_loaded_at
    from edges
    inner join nodes as a on edges.tenant_id = a.tenant_id and edges.node_a = a.node_key
    inner join nodes as b on edges.tenant_id = b.tenant_id and edges.node_b = b.node_key
    group by a.node_id, b.node_id
),

adjacency as (
    select source_id, target_id from numbered_edges
    union all
    select target_id, source_id from numbered_edges
),

degrees as (
    select source_id as node_id, count(*) as degree
    from adjacency
    group by source_id
),

{% if incremental_run %}
prior as not materialized (
    select tenant_id, node_key, component_id as prior_component, degree as prior_degree
    from {{ this }}
),

fresh_nodes as (
    select source_id as node_id from numbered_edges where last_loaded_at > {{ watermark }}
    union
    select target_id from numbered_edges where last_loaded_at > {{ watermark }}
),

fresh_records as (
    select tenant_id, 'external_id:' || source_system || ':contacts:' || contact_id as node_key
    from contacts where loaded_at > {{ watermark }}
    union all
    select tenant_id, 'external_id:' || source_system || ':leads:' || lead_id
    from leads where loaded_at > {{ watermark }}
),

current_with_prior as (
    select
        nodes.tenant_id,
        nodes.node_key,
        nodes.node_id,
        prior.prior_component,
        prior.prior_component is null
            or coalesce(degrees.degree, 0) <> prior.prior_degree
            or fresh_nodes.node_id is not null
            or fresh_records.node_key is not null as is_dirty
    from nodes
    left join prior on nodes.tenant_id = prior.tenant_id and nodes.node_key = prior.node_key
    left join degrees on nodes.node_id = degrees.node_id
    left join fresh_nodes on nodes.node_id = fresh_nodes.node_id
    left join fresh_records on nodes.tenant_id = fresh_records.tenant_id and nodes.node_key = fresh_records.node_key
),

dirty_components as (
    select distinct tenant_id, prior_component
    from current_with_prior
    where is_dirty and prior_component is not null
    union
    select prior.tenant_id, prior.prior_component
    from prior
    anti join nodes on prior.tenant_id = nodes.tenant_id and prior.node_key = nodes.node_key
),

seeds as (
    select
        current_with_prior.node_id,
        case
            when current_with_prior.prior_component is null or dirty_components.prior_component is not null
                then current_with_prior.node_id
            else min(current_with_prior.node_id) over (
                partition by current_with_prior.tenant_id, current_with_prior.prior_component
            )
        end as label
    from current_with_prior
    left join dirty_components
        on current_with_prior.tenant_id = dirty_components.tenant_id
        and current_with_prior.prior_component = dirty_components.prior_component
),
{% else %}
seeds as (
    select node_id, node_id as label from nodes
),
{% endif %}

labels as (
    with recursive propagated (node_id, label) using key (node_id) as (
        select node_id, label
        from seeds
        union
        select adjacency.target_id as node_id, min(propagated.label) as label
        from propagated
        inner join adjacency on adjacency.source_id = propagated.node_id
        inner join recurring.propagated as current_labels
            on current_labels.node_id = adjacency.target_id
        where propagated.label < current_labels.label
        group by adjacency.target_id
    )
    select * from propagated
),

final as (
    select
        nodes.tenant_id,
        nodes.node_key,
        split_part(nodes.node_key, ':', 1) as node_type,
        labels.label as component_id,
        count(*) over (partition by labels.label) as component_size,
        coalesce(degrees.degree, 0) as degree,
        {{ run_at }} as clustered_at,
        (select max(last_loaded_at) from edges) as edges_watermark
    from nodes
    inner join labels on nodes.node_id = labels.node_id
    left join degrees on nodes.node_id = degrees.node_id
)

select * from final
