{#- Tests on the big incremental tables check only the rows the latest run wrote (a test's
    `where: "<column> = (select max(<column>) from __this__)"`): the rows before were
    tested by the run that wrote them, and delete+insert on the key keeps old and new rows
    apart. `__this__` is the tested relation. `dbt build --vars '{test_all_rows: true}'`
    tests every row. -#}
{% macro duckdb__get_where_subquery(relation) -%}
    {%- set where = config.get('where', '') -%}
    {%- if where and '__this__' in where and var('test_all_rows', false) -%}
        {%- set where = '' -%}
    {%- endif -%}
    {%- if where -%}
        {%- set filtered -%}
            (select * from {{ relation }} where {{ where | replace('__this__', relation | string) }}) dbt_subquery
        {%- endset -%}
        {%- do return(filtered) -%}
    {%- else -%}
        {%- do return(relation) -%}
    {%- endif -%}
{%- endmacro %}
