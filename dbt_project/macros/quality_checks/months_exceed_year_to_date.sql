-- Single months reported for a year summing to more than a year-to-date figure of the same series
-- spanning them (Jan-Mar below January, February and March together), each figure as its range
-- (macros/ranges.sql): flagged only when the months' lowest values add up to more than the
-- year-to-date figure's highest ('at least' year-to-date figures have no highest: never).
-- The SQL of the view quality.dq_months_exceed_year_to_date, over the inputs it is given: the view
-- gives it the whole models; data_quality_findings, built incrementally, only what a run's changed
-- figures can affect (macros/findings_scope.sql).

{% macro check_months_exceed_year_to_date(monthly_figures) -%}

{#- The months with their year, written out where they are read rather than as a CTE: DuckDB
    materializes a CTE read more than once, every column of every month. -#}
{%- set months -%}
    (select *, extract(year from month) as year from {{ monthly_figures }})
{%- endset %}

with

-- only the years of a series that have a year-to-date figure past January: usually a small part
-- of the months, so the window below does not sort every month of every series
years_to_date as (

    select distinct series_id, year
    from {{ months }} as months
    where year_to_date_units is not null

),

-- the reported months of each such year, summed up to each month (a series' year is at most 12 rows)
running as (

    select
        months.*,
        sum(months.reported_units_low) over (
            partition by months.series_id, months.year
            order by months.month
            rows between unbounded preceding and current row
        ) as months_low

    from {{ months }} as months
    inner join years_to_date
        on months.series_id = years_to_date.series_id
        and months.year = years_to_date.year

),

exceeding as (

    select * from running
    where year_to_date_units is not null
        and months_low > year_to_date_units_high

),

-- the months behind each finding (findings are few: this join is small)
summed as (

    select
        exceeding.metric,
        exceeding.entity,
        exceeding.entity_type,
        exceeding.powertrain,
        exceeding.month,
        exceeding.year_to_date_units,
        exceeding.year_to_date_units_qualifier,
        exceeding.year_to_date_units_low,
        exceeding.year_to_date_units_high,
        exceeding.year_to_date_period_end,
        exceeding.year_to_date_source_id,
        exceeding.year_to_date_figure_ref,
        exceeding.months_low,
        count(*) as months_counted,
        sum(reported.reported_units) as months_units,
        {{ list_agg('reported.reported_source_id') }} as month_source_ids,
        {{ list_agg('reported.reported_figure_ref') }} as month_figure_refs

    from exceeding
    inner join {{ months }} as reported
        on exceeding.series_id = reported.series_id
        and reported.year = exceeding.year
        and reported.month <= exceeding.month
        and reported.reported_units is not null
    group by
        exceeding.metric,
        exceeding.entity,
        exceeding.entity_type,
        exceeding.powertrain,
        exceeding.month,
        exceeding.year_to_date_units,
        exceeding.year_to_date_units_qualifier,
        exceeding.year_to_date_units_low,
        exceeding.year_to_date_units_high,
        exceeding.year_to_date_period_end,
        exceeding.year_to_date_source_id,
        exceeding.year_to_date_figure_ref,
        exceeding.months_low

),

findings as (

    select
        'months_exceed_year_to_date' as check_name,
        'warning' as severity,
        entity,
        {{ year_start('month') }} as period_start,
        year_to_date_period_end as period_end,
        {{ figure_subject_text() }} || ': the ' || cast(months_counted as {{ dbt.type_string() }})
            || ' single month(s) reported for ' || {{ period_text(year_start('month'), 'year_to_date_period_end') }}
            || ' add up to ' || {{ format_units('months_units') }} || ', '
            || {{ format_units('months_low - year_to_date_units_high') }} || ' more than the '
            || case year_to_date_units_qualifier when 'approx' then 'about ' else '' end
            || {{ format_units('year_to_date_units') }}
            || case when year_to_date_units_qualifier = 'approx'
                then ' (' || {{ format_units('year_to_date_units_low') }} || ' to ' || {{ format_units('year_to_date_units_high') }} || ')'
                else '' end
            || ' reported for the year to date (sources: '
            || {{ list_to_text(concat_lists('month_source_ids', list_of(['year_to_date_source_id']))) }} || ').'
            as details,
        {{ concat_lists('month_source_ids', list_of(['year_to_date_source_id'])) }} as source_ids,
        {{ concat_lists('month_figure_refs', list_of(['year_to_date_figure_ref'])) }} as figure_refs

    from summed

)

select * from findings

{%- endmacro %}
