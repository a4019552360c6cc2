{#
    A reported figure as the range of values it can stand for (issue 20): an exact figure is
    itself; an approximate one ('approx') is units +/- half its written step (units_step, the unit
    of the last digit the source wrote: "4.91 million" is 4,905,000 to 4,915,000; flows/stages/precision.py);
    an 'at least' one is a lower bound, with no upper bound (null). The consistency checks compare
    ranges: two figures conflict only when no values within their ranges agree.
    `relation` is an alias (or '' for unqualified columns) with units, units_qualifier and units_step.
#}

{% macro units_low(relation='') -%}
    {%- set prefix = relation ~ '.' if relation else '' -%}
    (case
        when {{ prefix }}units_qualifier = 'approx'
            then cast({{ prefix }}units as {{ type_double() }}) - coalesce({{ prefix }}units_step, 0) / 2.0
        else cast({{ prefix }}units as {{ type_double() }})
    end)
{%- endmacro %}

{% macro units_high(relation='') -%}
    {%- set prefix = relation ~ '.' if relation else '' -%}
    (case
        when {{ prefix }}units_qualifier = 'at_least' then cast(null as {{ type_double() }})
        when {{ prefix }}units_qualifier = 'approx'
            then cast({{ prefix }}units as {{ type_double() }}) + coalesce({{ prefix }}units_step, 0) / 2.0
        else cast({{ prefix }}units as {{ type_double() }})
    end)
{%- endmacro %}


{#
    A figure's units as text with its qualifier and, for an approximate figure, its range:
    '937,148', 'at least 800,000', 'about 4,910,000 (4,905,000 to 4,915,000)'.
#}
{% macro figure_range_text(relation='') -%}
    {%- set prefix = relation ~ '.' if relation else '' -%}
    {{ figure_units_text(relation) }} || case
        when {{ prefix }}units_qualifier = 'approx'
            then ' (' || {{ format_units(units_low(relation)) }} || ' to ' || {{ format_units(units_high(relation)) }} || ')'
        else ''
    end
{%- endmacro %}
