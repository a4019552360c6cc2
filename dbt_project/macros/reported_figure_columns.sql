{#
    Typed column list shared by the two reported-figure feeds (sales and exports),
    which have identical layouts. Used in the `renamed` CTE of their staging models.
#}
{% macro reported_figure_columns() -%}
        cast(entity as {{ dbt.type_string() }}) as entity,
        cast(entity_type as {{ dbt.type_string() }}) as entity_type,
        cast(powertrain as {{ dbt.type_string() }}) as powertrain,
        cast(period_start as date) as period_start,
        cast(period_end as date) as period_end,
        cast(units as {{ dbt.type_bigint() }}) as units,
        cast(units_qualifier as {{ dbt.type_string() }}) as units_qualifier,
        cast(reported_yoy_pct as {{ type_double() }}) as reported_yoy_pct,
        cast(source_id as {{ dbt.type_string() }}) as source_id,
        cast(quote as {{ dbt.type_string() }}) as quote,
        cast(_file as {{ dbt.type_string() }}) as source_file,
        cast(_line as {{ dbt.type_bigint() }}) as source_line
{%- endmacro %}
