{#- The edges connected components run on: every stage's edges (the deterministic ones and
    the probabilistic stage's accepted matches), less those touching a blocked identifier.
    Probabilistic edges join person records only; over-merge protection was applied to
    them before they got here (int_identity_probabilistic_edges).

    A view: clustering reads it once, and writing the millions of edges again cost more
    than the anti joins with the few blocked ones. (The registry reads the two edge tables
    itself: see there.) -#}
{{ config(materialized='view') }}

with

deterministic_edges as not materialized (
    select * from {{ ref('int_identity_edges_collected') }}
),

probabilistic_edges as not materialized (
    select * from {{ ref('int_identity_probabilistic_edges') }}
),

blocked as not materialized (
    select * from {{ ref('int_identity_identifiers_blocked') }}
),

all_edges as (
    select tenant_id, node_a, node_b, rule, match_probability, stage, evidence, last_loaded_at
    from deterministic_edges
    union all
    select tenant_id, node_a, node_b, rule, match_probability, stage, evidence, last_loaded_at
    from probabilistic_edges
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
