{#
    True when the prior period covers exactly the same months one year before the current one
    (e.g. Jan-Nov 2023 for Jan-Nov 2024). A period ending on a month end matches a prior period
    ending on the same month's end a year earlier, so Jan-Feb 2025 matches Jan-Feb 2024 (29 Feb).
#}
{% macro is_same_period_a_year_earlier(period_start, period_end, prior_period_start, prior_period_end) -%}
    (
        {{ prior_period_start }} = cast({{ dbt.dateadd('year', -1, period_start) }} as date)
        and (
            {{ prior_period_end }} = cast({{ dbt.dateadd('year', -1, period_end) }} as date)
            or (
                {{ period_end }} = {{ dbt.last_day(period_end, 'month') }}
                and {{ prior_period_end }} = {{ dbt.last_day(dbt.dateadd('year', -1, period_end), 'month') }}
            )
        )
    )
{%- endmacro %}
