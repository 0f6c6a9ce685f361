{#- The point-in-time boundary of every ML feature mart, per tenant.

    as_of_at: the tenant's current time (int_tenants_as_of): scoring rows are computed
    as of it. cutoff_at: the `ml_cutoff` var, or `ml_horizon_days` before as_of_at, so
    that a label window of that length after the cut-off has been observed in full.
    Training rows read nothing after cutoff_at. -#}
with

as_of as not materialized (select * from {{ ref('int_tenants_as_of') }}),

final as (
    select
        tenant_id,
        as_of_at,
        {% if var('ml_cutoff') %}
        '{{ var("ml_cutoff") }}'::timestamp as cutoff_at,
        {% else %}
        as_of_at - to_days({{ var('ml_horizon_days') }}) as cutoff_at,
        {% endif %}
        {{ var('ml_horizon_days') }} as horizon_days
    from as_of
)

select * from final
