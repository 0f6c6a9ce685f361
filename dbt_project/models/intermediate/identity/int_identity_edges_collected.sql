{#- Every deterministic edge between two identity nodes, with its evidence: one per node
    pair and rule, with the evidence of the first source row seen (the links of
    int_identity_links_collected, aggregated). The probabilistic stage (splink) adds edges
    of the same shape with match_probability < 1 (int_identity_edges_filtered unions them). -#}
with

links as not materialized (
    select * from {{ ref('int_identity_links_collected') }}
),

final as (
    select
        tenant_id,
        node_a,
        node_b,
        rule,
        1.0::double as match_probability,
        'deterministic' as stage,
        min(entity || ':' || source_system || ':' || record_id) as evidence,
        count(*) as times_seen,
        -- the latest load of a row that produced the edge: what incremental clustering
        -- compares with its watermark
        max(loaded_at) as last_loaded_at
    from links
    group by tenant_id, node_a, node_b, rule
)

select * from final
