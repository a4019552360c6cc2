{#
    The marts' enforced contracts on Spark. dbt-spark adds constraints to Delta tables only (an
    ALTER TABLE that fails on the Parquet tables this project builds), and Spark itself enforces
    none. So on Spark the table, once written, is read once: every row that breaks a not_null or
    check constraint of the model or its columns is counted, and the node fails naming each
    broken constraint, as DuckDB fails the insert. dbt's check of the columns' names and types
    runs before, as on any engine.
#}
{% macro spark__persist_constraints(relation, model) %}
    {%- if not config.get('contract').enforced -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set rules = [] -%}
    {%- for column_name, column in model.columns.items() -%}
        {%- for constraint in column.constraints -%}
            {%- if constraint.type == 'not_null' -%}
                {%- do rules.append((column_name ~ ' is null', 'not_null ' ~ column_name)) -%}
            {%- elif constraint.type == 'check' -%}
                {%- do rules.append(('not coalesce((' ~ constraint.expression ~ '), true)', 'check (' ~ constraint.expression ~ ')')) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endfor -%}
    {%- for constraint in model.constraints if constraint.type == 'check' -%}
        {%- do rules.append(('not coalesce((' ~ constraint.expression ~ '), true)', 'check (' ~ constraint.expression ~ ')')) -%}
    {%- endfor -%}
    {%- if rules -%}
        {%- set selects = [] -%}
        {%- for broken, _ in rules -%}
            {%- do selects.append('count_if(' ~ broken ~ ')') -%}
        {%- endfor -%}
        {%- set row = run_query('select ' ~ selects | join(', ') ~ ' from ' ~ relation).rows[0] -%}
        {%- set failures = [] -%}
        {%- for broken, label in rules -%}
            {%- if row[loop.index0] > 0 -%}
                {%- do failures.append(label ~ ': ' ~ row[loop.index0] ~ ' rows') -%}
            {%- endif -%}
        {%- endfor -%}
        {%- if failures -%}
            {{ exceptions.raise_compiler_error(relation ~ ' breaks its contract: ' ~ failures | join('; ')) }}
        {%- endif -%}
    {%- endif -%}
{% endmacro %}
