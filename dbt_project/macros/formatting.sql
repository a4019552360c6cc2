{#
    Figures as text, for the sentences of int_figures and of the data quality findings.
    Number formatting differs between engines, hence the dispatch; default__ is DuckDB's, spark__ Spark SQL's
    (Java's Formatter: the same text, but for a value exactly halfway, which Java rounds up).
#}

{# A whole number as text with thousands separators: 1,543,069. #}
{% macro format_units(expression) -%}
    {{ return(adapter.dispatch('format_units', 'outbound')(expression)) }}
{%- endmacro %}

{% macro default__format_units(expression) -%}
    format('{:,}', cast(round({{ expression }}) as {{ dbt.type_bigint() }}))
{%- endmacro %}

{# Spark formats a null as 'null' or 'n': these give null, as DuckDB's format does. #}
{% macro spark__format_units(expression) -%}
    case when {{ expression }} is not null then format_number(cast(round({{ expression }}) as {{ dbt.type_bigint() }}), 0) end
{%- endmacro %}


{# A growth rate in percent, signed, one decimal: +14.7%, -3.0%. #}
{% macro format_pct(expression) -%}
    {{ return(adapter.dispatch('format_pct', 'outbound')(expression)) }}
{%- endmacro %}

{% macro default__format_pct(expression) -%}
    format('{:+.1f}%', cast({{ expression }} as {{ type_double() }}))
{%- endmacro %}

{% macro spark__format_pct(expression) -%}
    case when {{ expression }} is not null then format_string('%+.1f%%', cast({{ expression }} as {{ type_double() }})) end
{%- endmacro %}


{# A number with one decimal: 5.3 (e.g. a difference in percentage points). #}
{% macro format_decimal(expression) -%}
    {{ return(adapter.dispatch('format_decimal', 'outbound')(expression)) }}
{%- endmacro %}

{% macro default__format_decimal(expression) -%}
    format('{:.1f}', cast({{ expression }} as {{ type_double() }}))
{%- endmacro %}

{% macro spark__format_decimal(expression) -%}
    case when {{ expression }} is not null then format_string('%.1f', cast({{ expression }} as {{ type_double() }})) end
{%- endmacro %}


{# A period as text: '2024-01-01 to 2024-11-30', or 'up to 2025-07-31' for a cumulative figure. #}
{% macro period_text(period_start, period_end) -%}
    case
        when {{ period_start }} is null then 'up to ' || cast({{ period_end }} as {{ dbt.type_string() }})
        else cast({{ period_start }} as {{ dbt.type_string() }}) || ' to ' || cast({{ period_end }} as {{ dbt.type_string() }})
    end
{%- endmacro %}


{# A powertrain scope as text: 'all powertrains', 'NEV', 'BEV', 'PHEV', 'EREV', 'ICE'. #}
{% macro powertrain_text(powertrain) -%}
    case
        when {{ powertrain }} = 'all' then 'all powertrains'
        else upper({{ powertrain }})
    end
{%- endmacro %}


{#
    What a reported figure counts, as text: 'Chery Group exports (all powertrains)'.
    `relation` is an alias (or '' for unqualified columns) with entity, metric and powertrain.
#}
{% macro figure_subject_text(relation='') -%}
    {%- set prefix = relation ~ '.' if relation else '' -%}
    {{ prefix }}entity || ' ' || {{ prefix }}metric || ' (' || {{ powertrain_text(prefix ~ 'powertrain') }} || ')'
{%- endmacro %}


{#
    A reported figure's units as text, with its qualifier: '937,148', 'about 4,910,000',
    'at least 800,000'. `relation` as in figure_subject_text.
#}
{% macro figure_units_text(relation='') -%}
    {%- set prefix = relation ~ '.' if relation else '' -%}
    case {{ prefix }}units_qualifier
        when 'approx' then 'about '
        when 'at_least' then 'at least '
        else ''
    end || {{ format_units(prefix ~ 'units') }}
{%- endmacro %}


{#
    Aggregate: the texts of `expression` in the group joined by `delimiter` (a SQL string literal),
    in ascending order of `sort_keys` (SQL expressions; negate a number to sort it descending).
    dbt.listagg's order by is not supported on Spark, hence the dispatch.
#}
{% macro ordered_text_agg(expression, delimiter, sort_keys) -%}
    {{ return(adapter.dispatch('ordered_text_agg', 'outbound')(expression, delimiter, sort_keys)) }}
{%- endmacro %}

{% macro default__ordered_text_agg(expression, delimiter, sort_keys) -%}
    {{ dbt.listagg(expression, delimiter, 'order by ' ~ sort_keys | join(', ')) }}
{%- endmacro %}

{# Sorting structs sorts by their fields in order: the keys, then the text. #}
{% macro spark__ordered_text_agg(expression, delimiter, sort_keys) -%}
    array_join(
        transform(
            array_sort(collect_list(named_struct(
                {%- for key in sort_keys %}'key{{ loop.index }}', {{ key }}, {% endfor %}'text', {{ expression }}
            ))),
            item -> item.text
        ),
        {{ delimiter }}
    )
{%- endmacro %}
