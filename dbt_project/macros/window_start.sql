{#- The earliest start of a `days`-long window over all tenants (their earliest as-of time
    minus `days`), as a timestamp literal: a filter `column > literal` reaches the table
    scan and skips the row groups too old to count, which a filter against a joined
    as-of time does not (D33). timestamp '1900-01-01' when there is no as-of time yet. -#}
{% macro earliest_window_start(days) %}
    {%- set as_of = ref('int_tenants_as_of') %}
    {%- set start = "timestamp '1900-01-01'" %}
    {%- if execute %}
        {%- set found = run_query("select (min(as_of_at) - interval " ~ days ~ " days)::varchar from " ~ as_of) %}
        {%- if found.rows[0][0] %}{% set start = "timestamp '" ~ found.rows[0][0] ~ "'" %}{% endif %}
    {%- endif %}
    {{- return(start) }}
{% endmacro %}
