{#
    For each row of `figures` (a CTE of reported figures with a period_start; `columns` its
    columns), the latest-ending figure of `priors` (a CTE of figures with units, with series_id and the payload)
    that ends before the period starts, its `payload` columns (a list holding at least period_start
    and period_end) as prior_<column>, all null when none ends within a year of the start.
    Of priors ending the same day, the shortest (latest start). One row per figure, its columns first.
    DuckDB finds it with an as-of join; other engines with a window over the series' events.
#}
{% macro nearest_earlier_priors(figures, priors, columns, payload) -%}
    {{ return(adapter.dispatch('nearest_earlier_priors', 'outbound')(figures, priors, columns, payload)) }}
{%- endmacro %}

{% macro default__nearest_earlier_priors(figures, priors, columns, payload) -%}
    {#- as-of order: the end day, then the start (a later start later); a figure sits before
        every prior ending on its first day -#}
    select
        {% for column in columns.split(', ') %}figure.{{ column }},
        {% endfor -%}
        {%- for column in payload %}
        case when prior_figure.period_end >= {{ dbt.dateadd('year', -1, 'figure.period_start') }}
            then prior_figure.{{ column }} end as prior_{{ column }}{{ ',' if not loop.last }}
        {%- endfor %}

    from (
        select *, cast(period_start - date '1970-01-01' as bigint) * 1000000 as as_of_key
        from {{ figures }}
    ) as figure
    asof left join (
        select
            series_id,
            {{ payload | join(', ') }},
            cast(period_end - date '1970-01-01' as bigint) * 1000000
                + cast(period_start - period_end as bigint) + 999999 as as_of_key
        from {{ priors }}
    ) as prior_figure
        on figure.series_id = prior_figure.series_id
        and figure.as_of_key > prior_figure.as_of_key
{%- endmacro %}

{% macro spark__nearest_earlier_priors(figures, priors, columns, payload) -%}
    {%- set prior_columns = [] -%}
    {%- for column in payload %}{% do prior_columns.append('prior_' ~ column) %}{% endfor -%}
    select
        {{ columns }},
        {%- for column in prior_columns %}
        case when prior_period_end >= {{ dbt.dateadd('year', -1, 'period_start') }} then {{ column }} end
            as {{ column }}{{ ',' if not loop.last }}
        {%- endfor %}

    from (
        -- each series in time order: priors at their end, figures at their start; on the same day
        -- a figure comes before a prior ending then, and priors ending the same day come shortest last
        select
            *,
            {%- for column in prior_columns %}
            {{ last_value_ignore_nulls(
                column ~ '_event',
                'series_id',
                'event_day, event_order, prior_period_start_event'
            ) }} as {{ column }}{{ ',' if not loop.last }}
            {%- endfor %}
        from (
            select
                {{ columns }},
                period_start as event_day,
                0 as event_order,
                {%- for column in prior_columns %}
                null as {{ column }}_event,
                {%- endfor %}
                true as is_figure
            from {{ figures }}

            union all

            select
                {% for column in columns.split(', ') %}
                {%- if column == 'series_id' %}{{ column }}{% else %}null{% endif %} as {{ column }},
                {% endfor -%}
                period_end as event_day,
                1 as event_order,
                {%- for column in payload %}
                {{ column }} as prior_{{ column }}_event,
                {%- endfor %}
                false as is_figure
            from {{ priors }}
        ) as series_events
    ) as latest_priors
    where is_figure
{%- endmacro %}
