{#- The customer_id registry: which customer_id every identity node belongs to.

    This table is the memory that keeps ids stable (DESIGN.md decision 5, docs/identity.md).
    Each run compares today's components with the ids the nodes had before:
    - a component whose nodes had no id gets a new one;
    - every earlier customer_id is owned by the one component that holds its anchor
      (its oldest node: earliest node_first_seen_at, then smallest node_key);
    - a component owning one earlier id keeps it; owning several (a merge), it keeps the
      oldest (earliest customer_created_at, then smallest id) and the others are merged
      into it (change_type 'merge', logged by int_identity_customer_id_changes);
    - a component holding nodes of an earlier id without its anchor (the split-off part
      of a split) gets a new id (change_type 'split'); the earlier id stays with the part
      that holds its anchor, so it keeps resolving.
    A run reads only the nodes that clustering rewrote since the registry last read it
    (`clustered_at` against the registry's `node_clustered_at`; whole components, so every
    node of an earlier id comes together, D34) and writes them back (delete+insert on the
    node): a changed node with this run's assigned_at, an unchanged one as it was.
    `full_refresh: false`:
    `dbt build --full-refresh` must not forget the ids already handed out. Nodes that
    vanished from the data (an erasure) are deleted by the post-hook. -#}
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=['tenant_id', 'node_key'],
        full_refresh=false,
        on_schema_change='append_new_columns',
        post_hook=[
            "delete from {{ this }} as registry where not exists (
                select 1 from {{ ref('int_identity_nodes_clustered') }} as nodes
                where nodes.tenant_id = registry.tenant_id and nodes.node_key = registry.node_key)"
        ],
    )
}}

{%- set run_at = "'" ~ run_started_at.strftime('%Y-%m-%d %H:%M:%S.%f') ~ "'::timestamp" %}

with

nodes as not materialized (
    select * from {{ ref('int_identity_nodes_clustered') }}
    {% if is_incremental() %}
    where clustered_at > (select coalesce(max(node_clustered_at), timestamp '1900-01-01') from {{ this }})
    {% endif %}
),

-- The edges of both stages, without int_identity_edges_filtered's anti joins with the
-- blocked identifiers: the joins below keep only edges whose two ends are nodes, and a
-- blocked identifier never is one. Through those anti joins DuckDB estimated the 7.5M
-- edges at 0.3M and built its hash table on them to meet a handful of moved nodes.
edges as not materialized (
    select tenant_id, node_a, node_b, rule, evidence from {{ ref('int_identity_edges_collected') }}
    union all
    select tenant_id, node_a, node_b, rule, evidence from {{ ref('int_identity_probabilistic_edges') }}
),

prior as (
    {% if is_incremental() %}
    select tenant_id, node_key, customer_id, customer_created_at, node_first_seen_at, assigned_at
    from {{ this }}
    {% else %}
    select
        null::varchar as tenant_id,
        null::varchar as node_key,
        null::varchar as customer_id,
        null::timestamp as customer_created_at,
        null::timestamp as node_first_seen_at,
        null::timestamp as assigned_at
    where false
    {% endif %}
),

joined as (
    select
        nodes.tenant_id,
        nodes.node_key,
        nodes.node_type,
        nodes.component_id,
        prior.customer_id as prior_customer_id,
        prior.customer_created_at as prior_customer_created_at,
        coalesce(prior.node_first_seen_at, {{ run_at }}) as node_first_seen_at,
        prior.assigned_at as prior_assigned_at,
        nodes.clustered_at
    from nodes
    left join prior
        on nodes.tenant_id = prior.tenant_id
        and nodes.node_key = prior.node_key
),

-- Each earlier id is owned by the component holding its anchor node.
owners as (
    select
        tenant_id,
        prior_customer_id as customer_id,
        min(prior_customer_created_at) as customer_created_at,
        arg_min(component_id, strftime(node_first_seen_at, '%Y%m%d%H%M%S%f') || node_key) as component_id
    from joined
    where prior_customer_id is not null
    group by tenant_id, prior_customer_id
),

-- A component keeps the oldest id it owns.
survivors as (
    select
        component_id,
        arg_min(customer_id, strftime(customer_created_at, '%Y%m%d%H%M%S%f') || customer_id) as customer_id,
        min(customer_created_at) as customer_created_at
    from owners
    group by component_id
),

components as (
    select
        joined.component_id,
        any_value(joined.tenant_id) as tenant_id,
        min(joined.node_key) as min_node_key,
        bool_or(joined.prior_customer_id is not null) as has_prior_nodes
    from joined
    group by joined.component_id
),

-- New ids hash the tenant and the component's smallest node, so a first build is
-- reproducible; a split-off part also hashes the run time, so it never revives an id
-- that was merged away before.
component_ids as (
    select
        components.component_id,
        coalesce(
            survivors.customer_id,
            'cus_' || substr(md5(
                components.tenant_id || '|' || components.min_node_key
                || case when components.has_prior_nodes then '|' || {{ run_at }}::varchar else '' end
            ), 1, 20)
        ) as customer_id,
        coalesce(survivors.customer_created_at, {{ run_at }}) as customer_created_at
    from components
    left join survivors on components.component_id = survivors.component_id
),

assigned as (
    select
        joined.tenant_id,
        joined.node_key,
        joined.node_type,
        component_ids.customer_id,
        component_ids.customer_created_at,
        joined.node_first_seen_at,
        joined.prior_customer_id as previous_customer_id,
        case
            when joined.prior_customer_id is null then 'new'
            when joined.prior_customer_id = component_ids.customer_id then 'unchanged'
            when owners.component_id = joined.component_id then 'merge'
            else 'split'
        end as change_type,
        joined.prior_assigned_at,
        joined.clustered_at
    from joined
    inner join component_ids on joined.component_id = component_ids.component_id
    left join owners
        on joined.tenant_id = owners.tenant_id
        and joined.prior_customer_id = owners.customer_id
),

-- Why nodes changed hands: the edges between a moved node's old id and the rest of its
-- new component (rule and the two nodes), a few per node.
moved as (
    select * from assigned where change_type in ('merge', 'split')
),

-- The nodes of the ids moved nodes left: only their edges can explain a move.
moved_mates as (
    select assigned.tenant_id, assigned.node_key, assigned.previous_customer_id
    from assigned
    semi join moved
        on assigned.tenant_id = moved.tenant_id
        and assigned.previous_customer_id = moved.previous_customer_id
),

edge_ends as (
    select edges.tenant_id, node_a as node_key, node_b as other_node_key, rule, node_a, node_b, evidence
    from edges
    semi join moved_mates on edges.tenant_id = moved_mates.tenant_id and edges.node_a = moved_mates.node_key
    union all
    select edges.tenant_id, node_b, node_a, rule, node_a, node_b, evidence
    from edges
    semi join moved_mates on edges.tenant_id = moved_mates.tenant_id and edges.node_b = moved_mates.node_key
),

bridges as (
    select
        moved.tenant_id,
        moved.node_key,
        string_agg(distinct edge_ends.rule, ',' order by edge_ends.rule) as change_rule,
        list(distinct edge_ends.node_a || ' ~ ' || edge_ends.node_b || ' (' || edge_ends.evidence || ')')[1:3]
            as evidence_list
    from moved
    inner join moved_mates
        on moved.tenant_id = moved_mates.tenant_id
        and moved.previous_customer_id = moved_mates.previous_customer_id
    inner join edge_ends
        on edge_ends.tenant_id = moved_mates.tenant_id
        and edge_ends.node_key = moved_mates.node_key
    inner join assigned as other_end
        on other_end.tenant_id = edge_ends.tenant_id
        and other_end.node_key = edge_ends.other_node_key
    where other_end.previous_customer_id is distinct from moved.previous_customer_id
        and other_end.customer_id = moved.customer_id
    group by moved.tenant_id, moved.node_key
),

changed as (
    select
        assigned.tenant_id,
        assigned.node_key,
        assigned.node_type,
        substr(assigned.node_key, length(assigned.node_type) + 2) as node_value,
        assigned.customer_id,
        assigned.customer_created_at,
        assigned.node_first_seen_at,
        {{ run_at }} as assigned_at,
        assigned.previous_customer_id,
        assigned.change_type,
        case
            when assigned.change_type = 'split' then 'split'
            else bridges.change_rule
        end as change_rule,
        array_to_string(bridges.evidence_list, '; ') as change_evidence,
        -- the clustering run the row reflects: the registry's watermark
        assigned.clustered_at as node_clustered_at
    from assigned
    left join bridges
        on assigned.tenant_id = bridges.tenant_id
        and assigned.node_key = bridges.node_key
    where assigned.change_type <> 'unchanged'
),

final as (
    select * from changed
    {% if is_incremental() %}
    union all
    -- An unchanged node keeps its row as the run that last changed it wrote it.
    select registry.* replace (unchanged.clustered_at as node_clustered_at)
    from {{ this }} as registry
    inner join (select tenant_id, node_key, clustered_at from assigned where change_type = 'unchanged') as unchanged
        on registry.tenant_id = unchanged.tenant_id
        and registry.node_key = unchanged.node_key
    {% endif %}
)

select * from final
