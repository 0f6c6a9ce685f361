{#- The golden record: per customer and field, the value from the most trusted source
    (seed source_trust: CRM contact, CRM lead, support, web, marketing) that has one, and
    within that source the most recently updated record. Every field survives on its own:
    a name can come from the CRM while the phone comes from a newer web signup.

    Incremental (delete+insert per customer): a run recomputes the customers one of whose
    person records was resolved in it (a new version, or a record that changed customer:
    the customer it left too) and the customers of accounts updated since the last run.
    A recomputed customer left without person records is written as a row without
    source_records, which the post-hook deletes, as it does customers merged away.
    Changing the source_trust seed needs a --full-refresh. -#}
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=['tenant_id', 'customer_id'],
        post_hook=[
            "{% if is_incremental() %}delete from {{ this }} where source_records is null{% endif %}",
            "{{ delete_customers_merged_away() }}",
        ],
    )
}}

{#- A table built before this model was incremental has no built_at: rebuild it all once. -#}
{%- set incremental_run = is_incremental()
    and 'built_at' in (adapter.get_columns_in_relation(this) | map(attribute='name') | map('lower') | list) %}
{%- set run_at = "'" ~ run_started_at.strftime('%Y-%m-%d %H:%M:%S.%f') ~ "'::timestamp" %}
{%- set built_watermark = "timestamp '1900-01-01'" %}
{%- if execute and incremental_run %}
    {%- set mark = run_query("select max(built_at)::varchar from " ~ this) %}
    {%- if mark.rows[0][0] %}{% set built_watermark = "timestamp '" ~ mark.rows[0][0] ~ "'" %}{% endif %}
{%- endif %}

with

contacts as not materialized (select * from {{ ref('stg_crm__contacts') }}),
leads as not materialized (select * from {{ ref('stg_crm__leads') }}),
accounts as not materialized (select * from {{ ref('stg_crm__accounts') }}),
resolved as not materialized (
    select * from {{ ref('int_identity_records_resolved') }} where entity in ('contacts', 'leads')
),
registry as not materialized (select * from {{ ref('int_identity_customer_ids_assigned') }}),
trust as not materialized (select * from {{ ref('source_trust') }}),

{% if incremental_run %}
-- Filtered before the join: a one-sided condition in a join makes DuckDB run a nested loop.
updated_accounts as (
    select tenant_id, account_id
    from accounts
    where source_system = 'crm' and loaded_at > {{ built_watermark }}
),

touched as (
    select tenant_id, customer_id from resolved where resolved_at > {{ built_watermark }}
    union
    select tenant_id, previous_customer_id from registry
    where assigned_at > {{ built_watermark }} and previous_customer_id is not null
    union
    select profiles.tenant_id, profiles.customer_id
    from {{ this }} as profiles
    semi join updated_accounts
        on profiles.tenant_id = updated_accounts.tenant_id
        and profiles.account_id = updated_accounts.account_id
),
{% endif %}

person_records as (
    select
        tenant_id, 'contacts' as entity, source_system, contact_id as record_id,
        first_name, last_name, email_normalized as email, phone_e164 as phone, job_title,
        street, city, postal_code, country_code, date_of_birth, user_id, account_id,
        null::varchar as company, null::varchar as owner_id, created_at, updated_at
    from contacts
    union all
    select
        tenant_id, 'leads', source_system, lead_id,
        first_name, last_name, email_normalized, phone_e164, job_title,
        null, null, null, country_code, null, null, converted_account_id,
        company, owner_id, created_at, updated_at
    from leads
),

ranked as (
    select
        resolved.customer_id,
        person_records.*,
        -- smaller sorts first: trust rank, then the newest update
        lpad(coalesce(trust.trust_rank, 99)::varchar, 3, '0')
            || strftime(timestamp '2200-01-01' - (person_records.updated_at - timestamp '1970-01-01'), '%Y%m%d%H%M%S')
            as survivorship_key
    from person_records
    inner join resolved
        on person_records.tenant_id = resolved.tenant_id
        and person_records.entity = resolved.entity
        and person_records.source_system = resolved.source_system
        and person_records.record_id = resolved.record_id
    left join trust
        on person_records.entity = trust.entity
        and person_records.source_system = trust.source_system
    {% if incremental_run %}
    semi join touched
        on resolved.tenant_id = touched.tenant_id and resolved.customer_id = touched.customer_id
    {% endif %}
),

survived as (
    select
        tenant_id,
        customer_id,
        {% for field in ['first_name', 'last_name', 'email', 'phone', 'job_title', 'street', 'city',
                         'postal_code', 'country_code', 'date_of_birth', 'user_id', 'account_id',
                         'company', 'owner_id'] %}
        arg_min({{ field }}, survivorship_key) filter (where {{ field }} is not null) as {{ field }},
        {% endfor %}
        count(*) as source_records,
        list(distinct entity || ':' || source_system order by entity || ':' || source_system) as sources,
        min(created_at) as first_record_at
    from ranked
    group by tenant_id, customer_id
),

final as (
    select
        survived.*,
        accounts.account_name,
        accounts.industry as account_industry,
        accounts.owner_id as account_owner_id,
        {{ run_at }} as built_at
    from survived
    left join accounts
        on survived.tenant_id = accounts.tenant_id
        and survived.account_id = accounts.account_id
        and accounts.source_system = 'crm'
    {% if incremental_run %}
    union all by name
    select touched.tenant_id, touched.customer_id, {{ run_at }} as built_at
    from touched
    anti join survived
        on touched.tenant_id = survived.tenant_id and touched.customer_id = survived.customer_id
    where touched.customer_id is not null
    {% endif %}
)

select * from final
