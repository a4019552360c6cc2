{#
    dbt.dateadd on Spark, in one expression. dbt-spark's own (spark__dateadd) writes its argument
    three times (to check that it is a date or timestamp and to keep its time of day), so nested
    calls grow threefold at each level: dbt.last_day of a dateadd holds 27 copies of the date, and
    growth_rates compiled to 84 KB of SQL that Spark's optimizer took tens of seconds to plan, on
    every build and unit test. Spark's timestampadd does the same arithmetic (months clamped to
    the month's end, as add_months; the time of day kept) and gives the same timestamp, and an
    argument that is not a date still fails the query. This project macro takes precedence over
    dbt-spark's for dbt.dateadd (dbt searches the root project first for dbt's own macros).
#}
{% macro spark__dateadd(datepart, interval, from_date_or_timestamp) -%}
    {%- if datepart in ['year', 'quarter', 'month', 'week', 'day', 'hour', 'minute', 'second', 'millisecond', 'microsecond'] -%}
        timestampadd({{ datepart }}, cast({{ interval }} as int), {{ from_date_or_timestamp }})
    {%- else -%}
        {{ exceptions.raise_compiler_error("macro dateadd not implemented for datepart '" ~ datepart ~ "' on Spark") }}
    {%- endif -%}
{%- endmacro %}
