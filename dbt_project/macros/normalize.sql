{#- Identifier normalisation shared by every staging model. docs/identity.md has the rules
    and why; the API normalises lookups with the same rules. -#}

{#- Email: trimmed and lower-cased; the +tag of plus-addressing removed (every domain);
    for gmail.com / googlemail.com the dots of the local part removed and the domain
    unified to gmail.com. Anything that is not local@domain.tld becomes null. -#}
{% macro normalize_email(column) -%}
case
    when regexp_full_match(lower(trim({{ column }})), '[^@\s]+@[^@\s]+\.[^@\s.]+')
        and regexp_extract(lower(trim({{ column }})), '^([^@+]*)', 1) <> ''
    then
        case
            when regexp_extract(lower(trim({{ column }})), '@(.*)$', 1) in ('gmail.com', 'googlemail.com')
            then replace(regexp_extract(lower(trim({{ column }})), '^([^@+]*)', 1), '.', '') || '@gmail.com'
            else regexp_extract(lower(trim({{ column }})), '^([^@+]*)', 1)
                || '@' || regexp_extract(lower(trim({{ column }})), '@(.*)$', 1)
        end
end
{%- endmacro %}

{#- The local part of a normalised email (for the role-mailbox guard). -#}
{% macro email_local_part(column) -%}
split_part({{ column }}, '@', 1)
{%- endmacro %}

{#- Phone to E.164: an extension (x12, ext. 12, #12) is dropped; +CC... or 00CC... keep
    their own country code; a national number gets `calling_code` (the tenant's default
    country's) after its `trunk_prefix` is dropped (0 in most of Europe, 1 in North
    America, none in Italy). Null unless the result is + and 7-15 digits. -#}
{% macro normalize_phone(column, calling_code, trunk_prefix) -%}
{%- set stripped = "regexp_replace(trim(" ~ column ~ "), '\\s*(x|ext\\.?|extension|#)\\s*[0-9]+\\s*$', '', 'i')" -%}
{%- set digits = "regexp_replace(" ~ stripped ~ ", '[^0-9]', '', 'g')" -%}
{%- set candidate -%}
case
    when starts_with({{ stripped }}, '+') then '+' || {{ digits }}
    when starts_with({{ digits }}, '00') then '+' || substr({{ digits }}, 3)
    when coalesce({{ trunk_prefix }}, '') <> '' and starts_with({{ digits }}, {{ trunk_prefix }})
        then '+' || {{ calling_code }} || substr({{ digits }}, length({{ trunk_prefix }}) + 1)
    else '+' || {{ calling_code }} || {{ digits }}
end
{%- endset -%}
case when regexp_full_match({{ candidate }}, '\+[1-9][0-9]{6,14}') then {{ candidate }} end
{%- endmacro %}

{#- Names for matching: trimmed, inner whitespace collapsed, accents stripped, lower-cased. -#}
{% macro normalize_name(column) -%}
nullif(lower(strip_accents(regexp_replace(trim({{ column }}), '\s+', ' ', 'g'))), '')
{%- endmacro %}

{#- The key a country spelling is looked up by: its letters only, lower-cased. -#}
{% macro country_key(column) -%}
nullif(lower(regexp_replace(strip_accents(trim({{ column }})), '[^A-Za-z]', '', 'g')), '')
{%- endmacro %}

{#- A select of (country_key, iso2) over ISO2, ISO3, English name and aliases. -#}
{% macro country_lookup() -%}
select lower(iso2) as country_key, iso2 from {{ ref('country_codes') }}
union
select lower(iso3), iso2 from {{ ref('country_codes') }}
union
select {{ country_key('name') }}, iso2 from {{ ref('country_codes') }}
union
select alias, iso2 from {{ ref('country_aliases') }}
{%- endmacro %}

{#- A source timestamp as a naive timestamp in UTC (the warehouse convention). -#}
{% macro to_utc(column) -%}
timezone('UTC', {{ column }})
{%- endmacro %}

{#- Keep the latest version of each source record: latest updated_at, then latest load.
    The CRM staging models are incremental tables: a run reads only the raw rows loaded
    since the last one (a filter on the raw load time column, which DuckDB pushes into
    the scan), and newer_versions() drops a new row whose record the table already
    holds in a newer version. -#}
{% macro latest_version(relation) -%}
select *
from {{ relation }}
{%- if is_incremental() %}
where _loaded_at > ({{ staging_loaded_watermark() }} at time zone 'UTC')
{%- endif %}
qualify row_number() over (
    partition by tenant_id, source_system, record_id
    order by updated_at desc, _loaded_at desc, _file desc, _line desc
) = 1
{%- endmacro %}

{#- The latest load time a staging table holds, as a literal. -#}
{% macro staging_loaded_watermark() -%}
{%- set mark = run_query("select max(loaded_at)::varchar from " ~ this) if execute else none -%}
{%- if mark and mark.rows[0][0] -%}
timestamp '{{ mark.rows[0][0] }}'
{%- else -%}
timestamp '1900-01-01'
{%- endif -%}
{%- endmacro %}

{#- The rows of a CRM staging model's `final` CTE to write, stamped with the run's time
    (`staged_at`: the tests check only the rows the latest run wrote, macro
    duckdb__get_where_subquery). In an incremental run, the new versions older than the
    stored one are dropped: rows loaded now win ties on updated_at, and a null updated_at
    sorts last (latest_version). One comparison, not an `or`: DuckDB turns a join
    condition with `or` into a nested loop. -#}
{% macro newer_versions(record_key) -%}
select final.*, '{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S.%f") }}'::timestamp as staged_at
from final
{%- if is_incremental() %}
anti join {{ this }} as stored
    on final.tenant_id = stored.tenant_id
    and final.source_system = stored.source_system
    and final.{{ record_key }} = stored.{{ record_key }}
    and coalesce(stored.updated_at, '-infinity'::timestamp) > coalesce(final.updated_at, '-infinity'::timestamp)
{%- endif %}
{%- endmacro %}
