{#
    Double-precision floating point type (dbt.type_float() is single precision on some engines,
    e.g. duckdb's `float`).
#}
{% macro type_double() -%}
    {{ return(adapter.dispatch('type_double', 'outbound')()) }}
{%- endmacro %}

{% macro default__type_double() -%}
    double
{%- endmacro %}

{% macro postgres__type_double() -%}
    double precision
{%- endmacro %}
