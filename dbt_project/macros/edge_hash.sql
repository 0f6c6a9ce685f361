{#- The pre-hook of the identity links and edges: a table written before they stored their
    key's hash (`edge_hash`) gets the column and the hash of every row, once; after that
    no row lacks it and the update finds nothing (DuckDB skips row groups without nulls).
    int_identity_edges_collected compares links and edges by the stored column alone. -#}
{% macro fill_edge_hash() %}
    {%- if is_incremental() %}
    alter table {{ this }} add column if not exists edge_hash ubigint;
    update {{ this }} set edge_hash = hash(tenant_id, node_a, node_b, rule)
    where edge_hash is null and node_a is not null;
    {%- endif %}
{% endmacro %}
