{#
    The id of the run that builds the marts (dbt var run_id, set by the Outbound flow), as a
    column: every mart row carries it, so readers can tell marts of one publish from another.
#}
{% macro run_id_stamp() -%}
    cast('{{ var("run_id") }}' as {{ dbt.type_string() }}) as run_id
{%- endmacro %}
