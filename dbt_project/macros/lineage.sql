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

{#
    list_distinct drops nulls. One or two values (most lineage: a figure and its prior, a part and
    its total) are compared directly: sorting a list per row costs ten times more over millions of
    rows. With more, when all but the first two (or the first and the third: a month and the same
    month a year earlier) are null, as usually, the same; else the list.
#}
{% macro default__list_of(expressions) -%}
    {%- if expressions | length == 1 -%}
    (case when {{ expressions[0] }} is null then cast([] as {{ dbt.type_string() }}[]) else [{{ expressions[0] }}] end)
    {%- elif expressions | length == 2 -%}
    {{ sorted_pair_list(expressions[0], expressions[1]) }}
    {%- else -%}
    (case
        when {% for expression in expressions[2:] %}{{ expression }} is null{{ ' and ' if not loop.last }}{% endfor %}
            then {{ sorted_pair_list(expressions[0], expressions[1]) }}
        when {% for expression in [expressions[1]] + expressions[3:] %}{{ expression }} is null{{ ' and ' if not loop.last }}{% endfor %}
            then {{ sorted_pair_list(expressions[0], expressions[2]) }}
        else list_sort(list_distinct([{{ expressions | join(', ') }}]))
    end)
    {%- endif -%}
{%- endmacro %}

{# [a, b] sorted and distinct, without nulls, as list_sort(list_distinct([a, b])) gives it. #}
{% macro sorted_pair_list(first, second) -%}
    (case
        when {{ first }} is null and {{ second }} is null then cast([] as {{ dbt.type_string() }}[])
        when {{ second }} is null or {{ first }} = {{ second }} then [{{ first }}]
        when {{ first }} is null then [{{ second }}]
        when {{ first }} < {{ second }} then [{{ first }}, {{ second }}]
        else [{{ second }}, {{ first }}]
    end)
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
