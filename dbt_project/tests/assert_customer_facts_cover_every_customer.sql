{{ config(meta={'dagster': {'ref': {'name': 'int_customer_facts_summarized'}}}) }}
-- Every customer the identity registry knows has a row of facts, and no other id has one.
-- customer_360's rows are the facts' rows (a view that left-joins the lifecycle and the
-- measures, each unique per customer): against the view this test paid for its joins
-- (2.4 s of every large build) to check the same rows.
select coalesce(registry.tenant_id, facts.tenant_id) as tenant_id,
    coalesce(registry.customer_id, facts.customer_id) as customer_id
from (select distinct tenant_id, customer_id from {{ ref('int_identity_customer_ids_assigned') }}) as registry
full outer join {{ ref('int_customer_facts_summarized') }} as facts
    on registry.tenant_id = facts.tenant_id and registry.customer_id = facts.customer_id
where registry.customer_id is null or facts.customer_id is null
