{#
    Outbound on an engine other than DuckDB. The flow validates the landing files in DuckDB (the
    contracts at the door), then hands the valid rows to the engine as Parquet, one folder per feed
    (<exchange>/landing/<feed>), and after the build reads every model back the same way
    (<exchange>/models/<schema>.<model>) into the DuckDB warehouse it publishes. <exchange> is env
    var OUTBOUND_EXCHANGE_DIR, a path the engine and the flow both reach (a local folder for the
    session method; shared storage for a cluster).

    On DuckDB both hooks do nothing: the flow writes raw.<feed> into the build file and dbt builds there.
#}

{# on-run-start: (re)declare raw.<feed> as a table over the feed's Parquet folder. #}
{% macro register_landing_feeds() -%}
    {{ return(adapter.dispatch('register_landing_feeds', 'outbound')()) }}
{%- endmacro %}

{% macro default__register_landing_feeds() -%}{%- endmacro %}

{% macro spark__register_landing_feeds() -%}
    {#- read only when the hook runs: an env var read while parsing makes dbt parse again when it changes -#}
    {%- set exchange = env_var('OUTBOUND_EXCHANGE_DIR', '') if execute else '' -%}
    {%- if exchange -%}
        {%- for source in graph.sources.values() if source.source_name == 'landing' -%}
            {%- set relation = source.schema ~ '.' ~ source.identifier -%}
            {%- do run_query('create database if not exists ' ~ source.schema) -%}
            {%- do run_query('drop table if exists ' ~ relation) -%}
            {%- do run_query('create table ' ~ relation ~ " using parquet location '" ~ exchange ~ '/landing/' ~ source.identifier ~ "'") -%}
        {%- endfor -%}
    {%- endif -%}
{%- endmacro %}


{#
    on-run-end: write every model dbt built, as Parquet, for the flow to publish; only when the
    whole build passed (a failed build publishes nothing).
#}
{% macro export_models(results) -%}
    {{ return(adapter.dispatch('export_models', 'outbound')(results)) }}
{%- endmacro %}

{% macro default__export_models(results) -%}{%- endmacro %}

{% macro spark__export_models(results) -%}
    {%- set exchange = env_var('OUTBOUND_EXCHANGE_DIR', '') if execute else '' -%}
    {%- set failed = results | selectattr('status', 'in', ['error', 'fail', 'runtime error']) | list -%}
    {%- if exchange and not failed -%}
        {%- for result in results if result.node.resource_type == 'model' and result.status == 'success' -%}
            {%- set node = result.node -%}
            {%- do run_query(
                "insert overwrite directory '" ~ exchange ~ '/models/' ~ node.schema ~ '.' ~ node.alias ~ "' using parquet "
                ~ 'select * from ' ~ node.schema ~ '.' ~ node.alias
            ) -%}
        {%- endfor -%}
    {%- endif -%}
{%- endmacro %}
