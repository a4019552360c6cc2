{#
    The id of the run that builds the marts (env var OUTBOUND_RUN_ID, set by the Outbound flow;
    'manual' when dbt is run by hand), as a column: every mart row carries it, so readers can
    tell marts of one publish from another. An env var rather than a dbt var: a new value of a
    var makes dbt parse the whole project again, a new env var value only the models using it.
#}
{% macro run_id_stamp() -%}
    cast('{{ env_var("OUTBOUND_RUN_ID", "manual") }}' as {{ dbt.type_string() }}) as run_id
{%- endmacro %}
