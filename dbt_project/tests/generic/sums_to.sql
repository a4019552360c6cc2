{#
    Fails for every group (group_by_columns) whose column total differs from
    `expected_total` by more than `tolerance`.
#}
{% test sums_to(model, column_name, group_by_columns, expected_total=1, tolerance=1e-9) %}

with

totals as (

    select
        {{ group_by_columns | join(', ') }},
        sum({{ column_name }}) as column_total

    from {{ model }}
    group by {{ group_by_columns | join(', ') }}

)

select * from totals
where abs(column_total - {{ expected_total }}) > {{ tolerance }}

{% endtest %}
