{#- Like `relationships`, scoped by tenant: every non-null `column_name` of a row names a
    `field` of `to` in the same tenant. Record ids repeat across tenants, so the plain test
    would pass on a reference into the wrong tenant. Warns by default: in source data an
    orphan usually means the parent row is in raw.quarantine (it failed validation), which
    is worth seeing but not worth stopping the warehouse for. -#}
{% test relationships_in_tenant(model, column_name, to, field) %}

{{ config(severity='warn') }}

select child.tenant_id, child.{{ column_name }}
from (select * from {{ model }}) as child  -- `model` may be a filtered subquery (config `where`)
where child.{{ column_name }} is not null
    and not exists (
        select 1 from {{ to }} as parent
        where parent.tenant_id = child.tenant_id and parent.{{ field }} = child.{{ column_name }}
    )

{% endtest %}
