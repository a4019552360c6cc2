{#
    Table and column comments (persist_docs) as one line of text. The descriptions in the yml files
    are folded blocks ending in a line break, which SQL clients show as a literal \n; runs of
    whitespace become one space. Otherwise dbt-duckdb's own macros (dbt/include/duckdb/macros/persist_docs.sql).
#}
{% macro one_line_comment(comment) -%}
    {{ return(comment.split() | join(' ') if comment is string else comment) }}
{%- endmacro %}

{% macro duckdb__alter_relation_comment(relation, comment) %}
  {% set escaped_comment = duckdb_escape_comment(one_line_comment(comment)) %}
  comment on {{ relation.type }} {{ relation }} is {{ escaped_comment }};
{% endmacro %}

{% macro duckdb__alter_column_comment(relation, column_dict) %}
  {% set existing_columns = adapter.get_columns_in_relation(relation) | map(attribute="name") | list %}
  {% for column_name in column_dict if (column_name in existing_columns) %}
    {% set escaped_comment = duckdb_escape_comment(one_line_comment(column_dict[column_name]['description'])) %}
    comment on column {{ relation }}.{{ adapter.quote(column_name) if column_dict[column_name]['quote'] else column_name }} is {{ escaped_comment }};
  {% endfor %}
{% endmacro %}
