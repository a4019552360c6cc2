{#
    A CTE that a query reads more than once, computed again where each reads it rather than kept
    whole: `figures as {{ inlined() }} (...)`. DuckDB keeps such a CTE whole (materialized), every
    column of every row, before any reader's filter or projection: at 10M rows a scan of a wide
    table kept that way spilled gigabytes, where reading the table again costs a fraction of it.
    Only for CTEs cheap to compute again (a scan, a filter, a projection, a join to a small
    table); an aggregate or a large join read twice is better kept. Other engines (Spark) have no
    such keyword and decide for themselves.
#}
{% macro inlined() -%}
    {{ return(adapter.dispatch('inlined', 'outbound')()) }}
{%- endmacro %}

{% macro default__inlined() -%}
{%- endmacro %}

{% macro duckdb__inlined() -%}
    not materialized
{%- endmacro %}
