{#
    dbt's safe_cast on Spark, where the unit tests' fixtures need it: a list written as text in a
    fixture ("['s1', 's2']", which DuckDB casts to a list) cannot be cast to an array in Spark, but
    read as JSON (Spark's JSON reader takes single quotes) it can. Otherwise as dbt-spark does it.
#}
{% macro spark__safe_cast(field, type) -%}
    {%- set complex = type.lower().startswith('struct') or type.lower().startswith('array') or type.lower().startswith('map') -%}
    {%- if complex and field is string and field.startswith("'") -%}
        from_json({{ field }}, '{{ type }}')
    {%- else -%}
        cast({{ field }} as {{ type }})
    {%- endif -%}
{%- endmacro %}
