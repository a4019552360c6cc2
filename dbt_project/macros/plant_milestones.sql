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
