{#- Every deterministic edge between two identity nodes, with its evidence: one per node
    pair and rule, with the evidence of the first source row seen (the links of
    int_identity_links_collected, aggregated). The probabilistic stage (splink) adds edges
    of the same shape with match_probability < 1 (int_identity_edges_filtered unions them).

    Incremental: the links are aggregated in full (a record's new version can drop a link,
    and only the aggregate tells which edges that leaves without one), but only edges
    that are new, changed or gone are written: writing millions of unchanged edges again
    cost three times the aggregation. An edge no link makes any more is written with
    times_seen 0, which the post-hook deletes. -#}
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=['tenant_id', 'node_a', 'node_b', 'rule'],
        post_hook=["{% if is_incremental() %}delete from {{ this }} where times_seen = 0{% endif %}"],
    )
}}

with

links as not materialized (
    select * from {{ ref('int_identity_links_collected') }}
),

aggregated as (
    select
        tenant_id,
        node_a,
        node_b,
        rule,
        min(entity || ':' || source_system || ':' || record_id) as evidence,
        count(*) as times_seen,
        -- the latest load of a row that produced the edge
        max(loaded_at) as last_loaded_at
    from links
    group by tenant_id, node_a, node_b, rule
),

{% if is_incremental() %}
compared as (
    select
        coalesce(aggregated.tenant_id, prior.tenant_id) as tenant_id,
        coalesce(aggregated.node_a, prior.node_a) as node_a,
        coalesce(aggregated.node_b, prior.node_b) as node_b,
        coalesce(aggregated.rule, prior.rule) as rule,
        coalesce(aggregated.evidence, prior.evidence) as evidence,
        coalesce(aggregated.times_seen, 0) as times_seen,
        coalesce(aggregated.last_loaded_at, prior.last_loaded_at) as last_loaded_at
    from aggregated
    full join {{ this }} as prior
        on aggregated.tenant_id = prior.tenant_id
        and aggregated.node_a = prior.node_a
        and aggregated.node_b = prior.node_b
        and aggregated.rule = prior.rule
    where prior.tenant_id is null
        or aggregated.tenant_id is null
        or aggregated.times_seen <> prior.times_seen
        or aggregated.evidence <> prior.evidence
        or aggregated.last_loaded_at <> prior.last_loaded_at
),
{% else %}
compared as (
    select * from aggregated
),
{% endif %}

final as (
    select
        tenant_id,
        node_a,
        node_b,
        rule,
        1.0::double as match_probability,
        'deterministic' as stage,
        evidence,
        times_seen,
        last_loaded_at
    from compared
)

select * from final
