{#
    Lineage and list helpers. Every mart row carries `source_ids` and `figure_refs`: sorted,
    distinct lists of the sources and figures it was computed from. List syntax differs between
    engines, hence the dispatch; default__ is DuckDB's, spark__ Spark SQL's.
#}

{# The reference of one figure: '<feed>:<landing file>:<line>'. #}
{% macro figure_ref(feed, file_column='source_file', line_column='source_line') -%}
    {{ dbt.concat(["'" ~ feed ~ ":'", file_column, "':'", dbt.safe_cast(line_column, dbt.type_string())]) }}
{%- endmacro %}


{# A sorted list of the distinct non-null values of `expressions` (one row). #}
{% macro list_of(expressions) -%}
    {{ return(adapter.dispatch('list_of', 'outbound')(expressions)) }}
{%- endmacro %}

{% macro default__list_of(expressions) -%}
    list_sort(list_distinct(list_filter([{{ expressions | join(', ') }}], lambda item: item is not null)))
{%- endmacro %}

{% macro spark__list_of(expressions) -%}
    array_sort(array_distinct(filter(array({{ expressions | join(', ') }}), item -> item is not null)))
{%- endmacro %}


{# Aggregate: a sorted list of the distinct non-null values of `expression` in the group. #}
{% macro list_agg(expression) -%}
    {{ return(adapter.dispatch('list_agg', 'outbound')(expression)) }}
{%- endmacro %}

{% macro default__list_agg(expression) -%}
    list_sort(list_distinct(list({{ expression }}) filter (where {{ expression }} is not null)))
{%- endmacro %}

{# collect_set skips nulls. #}
{% macro spark__list_agg(expression) -%}
    array_sort(collect_set({{ expression }}))
{%- endmacro %}


{# Aggregate: the lists of `list_expression` in the group, merged, sorted and distinct. #}
{% macro merged_lists(list_expression) -%}
    {{ return(adapter.dispatch('merged_lists', 'outbound')(list_expression)) }}
{%- endmacro %}

{% macro default__merged_lists(list_expression) -%}
    list_sort(list_distinct(flatten(list({{ list_expression }}))))
{%- endmacro %}

{% macro spark__merged_lists(list_expression) -%}
    array_sort(array_distinct(flatten(collect_list({{ list_expression }}))))
{%- endmacro %}


{# Two lists joined, sorted and distinct (either may be null). #}
{% macro concat_lists(first_list, second_list) -%}
    {{ return(adapter.dispatch('concat_lists', 'outbound')(first_list, second_list)) }}
{%- endmacro %}

{% macro default__concat_lists(first_list, second_list) -%}
    list_sort(list_distinct(list_concat(coalesce({{ first_list }}, []), coalesce({{ second_list }}, []))))
{%- endmacro %}

{% macro spark__concat_lists(first_list, second_list) -%}
    array_sort(array_distinct(concat(coalesce({{ first_list }}, array()), coalesce({{ second_list }}, array()))))
{%- endmacro %}


{# A list as text, items separated by ', '. #}
{% macro list_to_text(list_expression) -%}
    {{ return(adapter.dispatch('list_to_text', 'outbound')(list_expression)) }}
{%- endmacro %}

{% macro default__list_to_text(list_expression) -%}
    array_to_string({{ list_expression }}, ', ')
{%- endmacro %}

{% macro spark__list_to_text(list_expression) -%}
    array_join({{ list_expression }}, ', ')
{%- endmacro %}
