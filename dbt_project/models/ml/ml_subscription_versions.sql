{#- Every recorded version of every subscription (status history), for point-in-time
    features: staging keeps only the latest version of a record, and whether a
    subscription was past due at a cut-off is in the versions only. This is the one ML
    model that reads a source directly; it renames and casts like a staging view. -#}
with

source as not materialized (
    select * from {{ source('crm', 'subscriptions') }}
),

final as (
    select
        tenant_id,
        source_system,
        record_id as subscription_id,
        nullif(lower(trim(status)), '') as status,
        mrr,
        {{ to_utc('started_at') }} as started_at,
        {{ to_utc('cancelled_at') }} as cancelled_at,
        {{ to_utc('updated_at') }} as updated_at,
        {{ to_utc('_loaded_at') }} as loaded_at
    from source
    where record_id is not null and updated_at is not null
)

select * from final
