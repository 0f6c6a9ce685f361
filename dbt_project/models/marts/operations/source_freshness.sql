{#- Per tenant and source entity: files loaded, rows in/loaded/quarantined/duplicate, and when
    the last file was loaded. A CRM file can hold several tenants; its rows have tenant_id
    '*' here (the manifest counts the file, not the tenant). Read by the dashboards' Data page. -#}
with

manifest as not materialized (select * from {{ source('ingest', 'manifest') }}),

final as (
    select
        coalesce(tenant_id, '*') as tenant_id,
        entity,
        count(*) as files,
        sum(rows_in)::bigint as rows_in,
        sum(loaded)::bigint as rows_loaded,
        sum(quarantined)::bigint as rows_quarantined,
        sum(duplicates)::bigint as rows_duplicate,
        timezone('UTC', min(loaded_at)) as first_loaded_at,
        timezone('UTC', max(loaded_at)) as last_loaded_at,
    from manifest
    group by all
)

select * from final
