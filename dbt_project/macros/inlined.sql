{#
    A CTE that a query reads more than once, computed again where each reads it rather than kept
    whole: `figures as {{ inlined() }} (...)`. DuckDB keeps such a CTE whole (materialized), every
    column of every row, before any reader's filter or projection: at 10M rows a scan of a wide
    table kept that way spilled gigabytes, where reading the table again costs a fraction of it.
    Only for CTEs cheap to compute again (a scan, a filter, a projection, a join to a small
    table); an aggregate or a large join read twice is better kept. Other engines (Spark) have no
    such keyword and decide for themselves.
    filtered_when_incremental: the CTE holds only the rows an incremental run rebuilds, found by a
    scan of its whole input. In such a run keeping those few rows is cheap and computing them
    again means that scan again (10M rows, a new month: int_reported_figures 5.8 s computed
    again, 0.8 s kept), so it is inlined in full builds only.
#}
{% macro inlined(filtered_when_incremental=false) -%}
    {{ return(adapter.dispatch('inlined', 'outbound')(filtered_when_incremental)) }}
{%- endmacro %}

{% macro default__inlined(filtered_when_incremental) -%}
{%- endmacro %}

{% macro duckdb__inlined(filtered_when_incremental) -%}
    {%- if not (filtered_when_incremental and is_incremental()) %}not materialized{% endif -%}
{%- endmacro %}
