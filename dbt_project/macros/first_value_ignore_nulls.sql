{#
    First non-null value of `expression` over a whole window partition, in `order_by` order.
    The ignore-nulls syntax differs between engines, hence the dispatch.
#}
{% macro first_value_ignore_nulls(expression, partition_by, order_by) -%}
    {{ return(adapter.dispatch('first_value_ignore_nulls', 'outbound')(expression, partition_by, order_by)) }}
{%- endmacro %}

{% macro default__first_value_ignore_nulls(expression, partition_by, order_by) -%}
    first_value({{ expression }} ignore nulls) over (
        partition by {{ partition_by }}
        order by {{ order_by }}
        rows between unbounded preceding and unbounded following
    )
{%- endmacro %}

{% macro spark__first_value_ignore_nulls(expression, partition_by, order_by) -%}
    first_value({{ expression }}, true) over (
        partition by {{ partition_by }}
        order by {{ order_by }}
        rows between unbounded preceding and unbounded following
    )
{%- endmacro %}


{#
    Last non-null value of `expression` from the start of the window partition up to the current
    row, in `order_by` order: what was last seen before (carrying a value forward in time).
#}
{% macro last_value_ignore_nulls(expression, partition_by, order_by) -%}
    {{ return(adapter.dispatch('last_value_ignore_nulls', 'outbound')(expression, partition_by, order_by)) }}
{%- endmacro %}

{% macro default__last_value_ignore_nulls(expression, partition_by, order_by) -%}
    last_value({{ expression }} ignore nulls) over (
        partition by {{ partition_by }}
        order by {{ order_by }}
        rows between unbounded preceding and current row
    )
{%- endmacro %}

{% macro spark__last_value_ignore_nulls(expression, partition_by, order_by) -%}
    last_value({{ expression }}, true) over (
        partition by {{ partition_by }}
        order by {{ order_by }}
        rows between unbounded preceding and current row
    )
{%- endmacro %}
