{#- The customers whose rows a per-customer incremental model must recompute: those a
    record was resolved to since `watermark` (a new version of the record, or a record
    re-resolved because one of its nodes changed customer), and both ids of every node
    whose customer_id changed (merge, split: the customer a node left and the one it
    joined). The same rule as int_customer_profiles_survived and
    fct_sessions (decision D31); `watermark` must be a literal (D33).
    A record can also change customer with no node changing customer (its resolving
    identifier newly blocked, a better candidate node appearing): the customer it left
    is touched only if int_identity_records_resolved keeps it as `previous_customer_id`
    (used when the column exists). Null ids are dropped by the callers' joins. -#}
{% macro customers_touched_since(watermark) %}
    {%- set resolved = ref('int_identity_records_resolved') %}
    {%- set keeps_previous = execute and 'previous_customer_id' in (
        adapter.get_columns_in_relation(resolved) | map(attribute='name') | map('lower') | list) %}
    select tenant_id, {% if keeps_previous %}unnest([customer_id, previous_customer_id]){% else %}customer_id{% endif %} as customer_id
    from {{ resolved }}
    where resolved_at > {{ watermark }}
    union
    select tenant_id, unnest([customer_id, previous_customer_id]) as customer_id
    from {{ ref('int_identity_customer_ids_assigned') }}
    where assigned_at > {{ watermark }}
{% endmacro %}

{#- The last run's time of an incremental model with a `built_at` column, as a SQL literal
    (timestamp '1900-01-01' on a first or full build), and whether this run is incremental
    (a table built before the model had `built_at` is rebuilt once). Inlined as a literal
    so filters on it reach the table scans (D33). -#}
{% macro built_watermark() %}
    {%- set incremental_run = is_incremental()
        and 'built_at' in (adapter.get_columns_in_relation(this) | map(attribute='name') | map('lower') | list) %}
    {%- set mark = "timestamp '1900-01-01'" %}
    {%- if execute and incremental_run %}
        {%- set found = run_query("select max(built_at)::varchar from " ~ this) %}
        {%- if found.rows[0][0] %}{% set mark = "timestamp '" ~ found.rows[0][0] ~ "'" %}{% endif %}
    {%- endif %}
    {{- return({'incremental': incremental_run, 'mark': mark}) }}
{% endmacro %}

{#- A semi join of `alias` (with tenant_id and customer_id) on the CTE `touched`, in an
    incremental run only. -#}
{% macro touched_only(alias, incremental_run) %}{% if incremental_run %}
    semi join touched on {{ alias }}.tenant_id = touched.tenant_id and {{ alias }}.customer_id = touched.customer_id
{%- endif %}{% endmacro %}

{#- The rows of the CTE `computed` that are new or differ from the stored row with the same
    `keys` (a hash of the whole row): for a mart recomputed in full every run (cheap) whose
    writing is what costs, so that delete+insert on `keys` rewrites only what changed.
    The columns must come in the table's order and types (an enforced contract); a table
    whose rows all differ (a new column) is simply rewritten. A stored row whose key is no
    longer computed needs a post-hook to delete it. -#}
{% macro changed_rows_only(keys) %}
    {%- if is_incremental() %}
    select computed.*
    from computed
    anti join (
        select {{ keys | join(', ') }}, hash(stored) as row_hash from {{ this }} as stored
    ) as stored
        on {% for key in keys %}computed.{{ key }} = stored.{{ key }} and {% endfor %}hash(computed) = stored.row_hash
    {%- else %}
    select * from computed
    {%- endif %}
{% endmacro %}

{#- For int_customer_facts_summarized, in an incremental run: the customers to recompute
    (`customer_facts_touched`) and those only extended by new events
    (`customer_facts_extended`, with the new events' first and last time), as temporary
    tables of the model's connection. As tables, DuckDB knows how few rows they hold: as
    CTEs it estimated the touched set at 4.9M and hashed the 6M resolved records, 9.6M
    sessions and 0.9M tickets to meet it (large rebuild: 11.7 -> 9.9 s; with nothing
    touched 5.1 -> 0.2 s). -#}
{% macro stage_customer_facts_changes() %}
    {%- set watermark = built_watermark() %}
    {%- if watermark.incremental %}
    create or replace temporary table customer_facts_new_events as
        select tenant_id, customer_id, min(occurred_at) as first_event_at, max(occurred_at) as last_event_at
        from {{ ref('fct_events') }}
        where loaded_at > {{ watermark.mark }} and customer_id is not null
        group by all;
    create or replace temporary table customer_facts_touched as
        {{ customers_touched_since(watermark.mark) }}
        union
        select tenant_id, customer_id from {{ ref('int_customer_profiles_survived') }} where built_at > {{ watermark.mark }}
        union
        select tenant_id, customer_id from {{ ref('fct_events') }}
        where resolved_at > {{ watermark.mark }} and loaded_at <= {{ watermark.mark }}
        union
        select new_events.tenant_id, new_events.customer_id
        from customer_facts_new_events as new_events
        anti join {{ this }} as stored
            on new_events.tenant_id = stored.tenant_id and new_events.customer_id = stored.customer_id;
    create or replace temporary table customer_facts_extended as
        select new_events.*
        from customer_facts_new_events as new_events
        anti join customer_facts_touched as touched
            on new_events.tenant_id = touched.tenant_id and new_events.customer_id = touched.customer_id;
    {%- endif %}
{% endmacro %}

{% macro drop_customer_facts_changes() %}
    {%- for name in ['customer_facts_new_events', 'customer_facts_touched', 'customer_facts_extended'] %}
    drop table if exists temp.{{ name }};
    {%- endfor %}
{% endmacro %}

{#- The post-hook of a per-customer incremental model: deletes the rows of customer ids
    that no node holds any more. An id leaves the registry when its nodes move to other ids
    (change_type merge, or split when its anchor node vanished; the id is the rows'
    previous_customer_id) or through an erasure, which deletes the subject's rows from
    every table itself. Checking only the ids that nodes left, instead of every row
    against the 5.5M-node registry, takes 0.01 s instead of 0.7-2.2 s per model on a large
    rebuild. -#}
{% macro delete_customers_merged_away() %}
    {%- if is_incremental() %}
    {%- set registry = ref('int_identity_customer_ids_assigned') %}
    delete from {{ this }} as stale
    using (
        select distinct tenant_id, previous_customer_id as customer_id
        from {{ registry }}
        where change_type in ('merge', 'split')
    ) as left_ids
    where stale.tenant_id = left_ids.tenant_id
        and stale.customer_id = left_ids.customer_id
        and not exists (
            select 1 from {{ registry }} as registry
            where registry.tenant_id = stale.tenant_id and registry.customer_id = stale.customer_id)
    {%- endif %}
{% endmacro %}
