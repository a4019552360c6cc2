{#
    Position of a milestone in the canonical order set by var('plant_milestones')
    (announced = 1 ... inauguration = 6); unknown milestones sort last.
#}
{% macro milestone_rank(milestone_column) -%}
    case {{ milestone_column }}
    {%- for milestone in var('plant_milestones') %}
        when '{{ milestone }}' then {{ loop.index }}
    {%- endfor %}
        else {{ var('plant_milestones') | length + 1 }}
    end
{%- endmacro %}


{# True when the milestone proves local production (var('local_production_milestones')). #}
{% macro is_local_production_milestone(milestone_column) -%}
    {{ milestone_column }} in (
        {%- for milestone in var('local_production_milestones') -%}
            '{{ milestone }}'{% if not loop.last %}, {% endif %}
        {%- endfor -%}
    )
{%- endmacro %}


{#
    Rank of a date precision, most precise first (day = 1, month = 2, year = 3). A month-precise
    date is stored as the month's first day, so on a tie with a day-precise date it is the one
    less likely to be that early.
#}
{% macro date_precision_rank(precision_column) -%}
    case {{ precision_column }}
        when 'day' then 1
        when 'month' then 2
        when 'year' then 3
        else 4
    end
{%- endmacro %}


{#
    Latest day a milestone date can stand for: the date itself when day-precise, the last day of
    its month (month precision) or year (year precision). The stored date is the earliest day.
#}
{% macro latest_possible_date(date_column, precision_column) -%}
    case {{ precision_column }}
        when 'month' then cast({{ dbt.last_day(date_column, 'month') }} as date)
        when 'year' then cast({{ dbt.last_day(date_column, 'year') }} as date)
        else {{ date_column }}
    end
{%- endmacro %}
