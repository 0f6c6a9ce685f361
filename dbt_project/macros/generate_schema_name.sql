{#- Layers are schemas of the warehouse (staging, intermediate, marts, reference), named
    exactly so: the serving snapshot and the API read `marts.<table>`. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
