{#- The golden record: per customer and field, the value from the most trusted source
    (seed source_trust: CRM contact, CRM lead, support, web, marketing) that has one, and
    within that source the most recently updated record. Every field survives on its own:
    a name can come from the CRM while the phone comes from a newer web signup. -#}
with

contacts as not materialized (select * from {{ ref('stg_crm__contacts') }}),
leads as not materialized (select * from {{ ref('stg_crm__leads') }}),
accounts as not materialized (select * from {{ ref('stg_crm__accounts') }}),
resolved as not materialized (select * from {{ ref('int_identity_records_resolved') }}),
trust as not materialized (select * from {{ ref('source_trust') }}),

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
        accounts.owner_id as account_owner_id
    from survived
    left join accounts
        on survived.tenant_id = accounts.tenant_id
        and survived.account_id = accounts.account_id
        and accounts.source_system = 'crm'
)

select * from final
