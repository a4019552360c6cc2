-- Per series (metric, entity, entity_type, powertrain) and calendar month: the single month as a
-- source reports it, and the year-to-date figures that derive it (Jan-Nov less Jan-Oct of the same
-- year), side by side. monthly_figures publishes one value per month from it; the checks
-- months_exceed_year_to_date and (reported against derived) conflicting_reports read it.
-- A January figure is both a single month and a year-to-date one: it is the reported January and
-- the year-to-date figure February is derived from.
-- A table, not a view: the mart and two checks read it.
-- Incremental on DuckDB (macros/incremental.sql): a changed figure ending in month M can change
-- the months M and M + 1 of its series, rebuilt from the figures ending in M - 1 to M + 1.
{{ config(
    materialized=incremental_on_duckdb(),
    incremental_strategy='append',
    pre_hook="{{ delete_changed() }}",
    meta={'changed_since': 'month', 'changed_rows': in_changed_series(month_within('target.month', 'changed', [0, 1]))}
) }}

{% set role_columns = 'units, units_qualifier, units_low, units_high, period_end, source_id, figure_ref' %}

with

figures as {{ inlined(filtered_when_incremental=true) }} (

    -- figures of whole calendar months within one year (a single month, or Jan to a month end)
    select
        *,
        cast({{ dbt.date_trunc('month', 'period_end') }} as date) as end_month,
        {{ units_low() }} as units_low,
        {{ units_high() }} as units_high

    from {{ ref('int_reported_figures') }} as figures
    where units is not null
        and period_start is not null
        and extract(day from period_start) = 1
        and period_end = cast({{ dbt.last_day('period_end', 'month') }} as date)
        and extract(year from period_start) = extract(year from period_end)
        {% if is_incremental() -%}
        and {{ rows_changed_by(
            in_changed_series(month_within(dbt.date_trunc('month', 'target.period_end'), 'changed', [-1, 0, 1])),
            'figures', since='period_end', months_before=1
        ) }}
        {%- endif %}

),

-- each role keyed by the month it serves: at most one figure per series, role and month (one
-- per series and period in int_reported_figures), so full outer joins line them up; the
-- year-to-date figures are few beside the months, so the joins cost about one pass over them
reported as (

    -- a single month, as reported
    select series_id, metric, entity, entity_type, powertrain, end_month as month, {{ role_columns }}
    from figures
    where period_start = end_month

),

year_to_date as (

    -- a year-to-date figure up to the month it ends in (Jan-Feb and later: a January one is the single month)
    select series_id, metric, entity, entity_type, powertrain, end_month as month, {{ role_columns }}
    from figures
    where extract(month from period_start) = 1
        and period_start < end_month

),

previous as (

    -- the same figure as the previous year-to-date total of the next month (up to Jan-Nov)
    select
        series_id, metric, entity, entity_type, powertrain,
        cast({{ dbt.dateadd('month', 1, 'end_month') }} as date) as month,
        {{ role_columns }}
    from figures
    where extract(month from period_start) = 1
        and extract(month from period_end) < 12

),

reported_and_year_to_date as (

    select
        coalesce(reported.series_id, year_to_date.series_id) as series_id
        {%- for column in ['metric', 'entity', 'entity_type', 'powertrain', 'month'] %},
        coalesce(reported.{{ column }}, year_to_date.{{ column }}) as {{ column }}
        {%- endfor %}
        {%- for role in ['reported', 'year_to_date'] %}
        {%- for column in role_columns.split(', ') %},
        {{ role }}.{{ column }} as {{ role }}_{{ column }}
        {%- endfor %}
        {%- endfor %}

    from reported
    full outer join year_to_date
        on reported.series_id = year_to_date.series_id
        and reported.month = year_to_date.month

),

by_month as (

    select
        {%- for column in ['metric', 'entity', 'entity_type', 'powertrain', 'month'] %}
        coalesce(reported_and_year_to_date.{{ column }}, previous.{{ column }}) as {{ column }},
        {%- endfor %}
        {%- for role in ['reported', 'year_to_date'] %}
        {%- for column in role_columns.split(', ') %}
        reported_and_year_to_date.{{ role }}_{{ column }},
        {%- endfor %}
        {%- endfor %}
        {%- for column in role_columns.split(', ') %}
        previous.{{ column }} as previous_{{ column }},
        {%- endfor %}
        coalesce(reported_and_year_to_date.series_id, previous.series_id) as series_id

    from reported_and_year_to_date
    full outer join previous
        on reported_and_year_to_date.series_id = previous.series_id
        and reported_and_year_to_date.month = previous.month

),

derived as (

    select
        *,
        year_to_date_units - previous_units as derived_units,
        -- the qualifier that follows from the two: exact less exact is exact; with an approximate
        -- one, approximate; 'at least' less exact is 'at least'; otherwise nothing follows (null)
        case
            when year_to_date_units_qualifier = 'exact' and previous_units_qualifier = 'exact' then 'exact'
            when year_to_date_units_qualifier in ('exact', 'approx') and previous_units_qualifier in ('exact', 'approx') then 'approx'
            when year_to_date_units_qualifier = 'at_least' and previous_units_qualifier = 'exact' then 'at_least'
        end as derived_units_qualifier,
        year_to_date_units_low - previous_units_high as derived_units_low,
        year_to_date_units_high - previous_units_low as derived_units_high

    from by_month

)

select * from derived
{% if is_incremental() -%}
where {{ changed_rows(config.get('meta'), 'derived') }}
{%- endif %}
