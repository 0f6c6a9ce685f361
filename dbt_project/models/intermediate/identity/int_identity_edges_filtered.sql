{#- The edges connected components run on: every stage's edges (today the deterministic
    ones; the probabilistic stage adds its accepted matches here), less those touching a
    blocked identifier. -#}
with

deterministic_edges as not materialized (
    select * from {{ ref('int_identity_edges_collected') }}
),

blocked as not materialized (
    select * from {{ ref('int_identity_identifiers_blocked') }}
),

all_edges as (
    select tenant_id, node_a, node_b, rule, match_probability, stage, evidence, last_loaded_at
    from deterministic_edges
),

final as (
    select all_edges.*
    from all_edges
    anti join blocked as blocked_a
        on all_edges.tenant_id = blocked_a.tenant_id and all_edges.node_a = blocked_a.node_key
    anti join blocked as blocked_b
        on all_edges.tenant_id = blocked_b.tenant_id and all_edges.node_b = blocked_b.node_key
)

select * from final
