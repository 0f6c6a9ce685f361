{#- Quarantined landing rows per tenant, source entity and reason code (counts only: the
    payloads stay in raw.quarantine). A row whose tenant could not be read has tenant_id '*'.
    Read by the dashboards' Data page. -#}
with

quarantine as not materialized (select * from {{ source('ingest', 'quarantine') }}),

final as (
    select
        coalesce(tenant_id, '*') as tenant_id,
        entity,
        reason,
        count(*) as quarantined_rows,
        count(distinct file) as files,
        timezone('UTC', min(quarantined_at)) as first_quarantined_at,
        timezone('UTC', max(quarantined_at)) as last_quarantined_at,
    from quarantine
    group by all
)

select * from final
