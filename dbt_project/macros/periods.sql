{#
    Period arithmetic for reported figures. A period is (period_start, period_end); a null
    period_start is a cumulative figure since the company began (it starts before any date).
#}

{#
    Last day of the same period one year earlier: a period ending on a month end maps to the
    same month's end a year earlier (Jan-Feb 2025 -> 29 Feb 2024), as in
    is_same_period_a_year_earlier.
#}
{% macro year_earlier_period_end(period_end) -%}
    case
        when {{ period_end }} = {{ dbt.last_day(period_end, 'month') }}
            then cast({{ dbt.last_day(dbt.dateadd('year', -1, period_end), 'month') }} as date)
        else cast({{ dbt.dateadd('year', -1, period_end) }} as date)
    end
{%- endmacro %}


{# True when the outer period contains the inner one (equal periods included). #}
{% macro period_contains(outer_start, outer_end, inner_start, inner_end) -%}
    (
        (
            {{ outer_start }} is null
            or ({{ inner_start }} is not null and {{ outer_start }} <= {{ inner_start }})
        )
        and {{ inner_end }} <= {{ outer_end }}
    )
{%- endmacro %}


{# True when the two periods are the same (null period_starts compare equal). #}
{% macro same_period(first_start, first_end, second_start, second_end) -%}
    (
        {{ null_safe_equals(first_start, second_start) }}
        and {{ first_end }} = {{ second_end }}
    )
{%- endmacro %}


{#
    Equality where two nulls are equal. `is not distinct from` rather than dbt.equals' `a = b or
    (a is null and b is null)`: engines can join on it by hashing, while the `or` leaves them
    comparing every pair of rows that agree on the other keys (minutes at ten million figures).
#}
{% macro null_safe_equals(left, right) -%}
    {{ return(adapter.dispatch('null_safe_equals', 'outbound')(left, right)) }}
{%- endmacro %}

{% macro default__null_safe_equals(left, right) -%}
    {{ left }} is not distinct from {{ right }}
{%- endmacro %}

{% macro spark__null_safe_equals(left, right) -%}
    {{ left }} <=> {{ right }}
{%- endmacro %}


{#
    Join condition: two reported figures of the same series (metric, entity, entity_type,
    powertrain), the figures a growth rate or a consistency check compares.
#}
{% macro same_series(left, right) -%}
    {{ left }}.metric = {{ right }}.metric
        and {{ left }}.entity = {{ right }}.entity
        and {{ left }}.entity_type = {{ right }}.entity_type
        and {{ left }}.powertrain = {{ right }}.powertrain
{%- endmacro %}


{# The first day of the year of a date. #}
{% macro year_start(date_expression) -%}
    cast({{ dbt.date_trunc('year', date_expression) }} as date)
{%- endmacro %}


{# Join condition: `prior` is the figure of the same series for the same months one year before
   `figure` (year_earlier_period_end: of the two days a month-end period can map to, the later one). #}
{% macro same_months_a_year_earlier(figure, prior) -%}
    {{ prior }}.series_id = {{ figure }}.series_id
    and {{ prior }}.period_start = cast({{ dbt.dateadd('year', -1, figure ~ '.period_start') }} as date)
    and {{ prior }}.period_end = {{ year_earlier_period_end(figure ~ '.period_end') }}
    and {{ prior }}.period_end < {{ figure }}.period_start
{%- endmacro %}
