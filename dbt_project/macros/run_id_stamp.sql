{#
    The id of the run that builds the marts (env var OUTBOUND_RUN_ID, set by the Outbound flow;
    'manual' when dbt is run by hand), as a column: every mart row carries it, so readers can
    tell marts of one publish from another. Read only when the model runs (`execute`): dbt
    records the env vars a model reads while it is parsed, and parses it again whenever one of
    them has a new value, which the run id has on every run.
#}
{% macro run_id_stamp() -%}
    {%- set run_id = env_var("OUTBOUND_RUN_ID", "manual") if execute else "parsing" -%}
    cast('{{ run_id }}' as {{ dbt.type_string() }}) as run_id
{%- endmacro %}
