{#- The probabilistic stage's matches that may merge customers, as identity graph edges.

    Over-merge protection and reviewers' decisions were applied by the stage before it
    wrote the statuses (ml/identity/guards.py): only `accepted` and `confirmed` pairs are
    edges. An edge's last_loaded_at is when its pair last changed status, which is what
    incremental clustering compares with its watermark. The source is absent until the
    stage first runs (a plain `dbt build`): then there are no probabilistic edges. -#}
{%- set matches_relation = source('identity', 'probabilistic_matches') -%}
{%- set matches_exist = execute and load_relation(matches_relation) is not none -%}
with

{% if matches_exist %}
matches as not materialized (
    select * from {{ matches_relation }}
),
{% else %}
matches as not materialized (
    select
        null::varchar as tenant_id,
        null::varchar as node_a,
        null::varchar as node_b,
        null::double as match_probability,
        null::varchar as evidence,
        null::varchar as status,
        null::timestamp as status_changed_at
    where false
),
{% endif %}

merging as (
    select * from matches where status in ('accepted', 'confirmed')
),

final as (
    select
        tenant_id,
        node_a,
        node_b,
        case when status = 'confirmed' then 'probabilistic_confirmed' else 'probabilistic_match' end as rule,
        match_probability,
        'probabilistic' as stage,
        evidence,
        status_changed_at as last_loaded_at
    from merging
)

select * from final
