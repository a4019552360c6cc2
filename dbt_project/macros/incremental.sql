{#
    Incremental builds (issue 19). A run that builds on the published warehouse records the keys
    of the figures it changed in raw.changed_figures (flows/stages/changes.py): (metric, entity,
    entity_type, powertrain, period_start, period_end) of every sales and exports row added,
    removed or judged anew. The incremental models delete, before they insert, every row those
    keys can change (a pre-hook, `delete_changed`), then insert those rows rebuilt: a key that is
    gone leaves nothing behind, which dbt's delete+insert (keyed by the new rows) would.

    On DuckDB only: other engines build every model whole (they get the feeds afresh at every
    run, macros/exchange.sql), so there the models are plain tables and never read the record.
#}

{# The materialization of a model built incrementally on DuckDB, whole elsewhere. #}
{% macro incremental_on_duckdb() -%}
    {{ return('incremental' if target.type == 'duckdb' else 'table') }}
{%- endmacro %}

{#
    The keys this run changed, one row each. None when nothing recorded them: a warehouse built
    whole has no record, and dbt run by hand on it (README, "dbt by hand") then changes nothing
    rather than failing; `--full-refresh` rebuilds everything.
#}
{% macro changed_figures() -%}
    {%- set recorded = source('build', 'changed_figures') -%}
    {%- if not execute or load_relation(recorded) is not none %}
    (
        select distinct metric, entity, entity_type, powertrain, period_start, period_end
        from {{ recorded }}
    )
    {%- else %}
    (
        select
            cast(null as varchar) as metric,
            cast(null as varchar) as entity,
            cast(null as varchar) as entity_type,
            cast(null as varchar) as powertrain,
            cast(null as date) as period_start,
            cast(null as date) as period_end
        where false
    )
    {%- endif %}
{%- endmacro %}

{#
    What a change rebuilds. Each model built incrementally states, once, in its config's
    `meta.changed_rows`, the condition under which a changed key (`changed`) can change one of its
    rows (`target`), and in `meta.changed_since` a date column of its rows that is never before the
    month of the changed key's start (or end) when the condition holds. The pre-hook deletes those rows before the model inserts them rebuilt
    (`delete_changed`), and the model's data tests read only them (`get_where_subquery`): a
    duplicate of a rebuilt row has its grain (the columns the condition reads are in it), so it is
    among them too, and every other row was tested by the build that wrote it.
#}
{% macro changed_rows(meta, alias='target') -%}
    {{ rows_changed_by(changed_rows_condition(meta), alias, meta.get('changed_since')) }}
{%- endmacro %}

{#
    The rows (`alias`) for which `condition` holds with some changed key (`changed`, and `target`
    standing for the row). With `since`, a date column of the rows never earlier than
    `months_before` months before the month of the changed key's start (or end) when the
    condition holds: checked first, one comparison that spares most rows the join.
#}
{% macro rows_changed_by(condition, alias='target', since=none, months_before=0) -%}
    {%- if since -%}
    ({{ alias }}.{{ since }} is null or {{ alias }}.{{ since }} >= (
        select cast({{ dbt.dateadd('month', -months_before, dbt.date_trunc('month', 'min(coalesce(period_start, period_end))')) }} as date)
        from {{ changed_figures() }} as changed
    ))
    and {% endif -%}
    exists (
        select 1
        from {{ changed_figures() }} as changed
        where {{ condition | replace('target.', alias ~ '.') }}
    )
{%- endmacro %}

{# Condition: a row of the changed key's series (`target` with the series' four texts) for which `condition` holds. #}
{% macro in_changed_series(condition) -%}
    {{ same_series('target', 'changed') }} and ({{ condition }})
{%- endmacro %}

{#
    Condition: a row (`target`) of the group and period of a changed key: of the group itself, or
    of a brand the group has (the brands as validated; a run whose brands changed records every
    figure, flows/stages/changes.py). Written when the model runs: it names the brands' relation.
#}
{% macro in_changed_group_period() -%}
    {%- set brands = graph.sources.values() | selectattr('source_name', 'equalto', 'landing') | selectattr('name', 'equalto', 'brands') | first -%}
    {%- set condition -%}
    {{ same_period('target.period_start', 'target.period_end', 'changed.period_start', 'changed.period_end') }}
    and target.group_name = case
        when changed.entity_type = 'group' then changed.entity
        when changed.entity_type = 'brand' then (
            select brand.group_name from {{ brands.relation_name }} as brand where brand.brand = changed.entity
        )
    end
    {%- endset -%}
    {{ return(condition) }}
{%- endmacro %}

{#
    The condition a model's config states: `meta.changed_rows`, SQL, or `meta.changed_rows_macro`,
    the name of a macro that writes it when the model runs (when it needs a relation, which dbt
    resolves only then).
#}
{% macro changed_rows_condition(meta) -%}
    {%- if meta.get('changed_rows_macro') -%}
        {{ return(context[meta['changed_rows_macro']]()) }}
    {%- endif -%}
    {{ return(meta.get('changed_rows')) }}
{%- endmacro %}

{# Pre-hook: delete the rows of this model that a changed key can change (its `meta.changed_rows`). #}
{% macro delete_changed() -%}
    {%- if is_incremental() -%}
    delete from {{ this }} as target
    where {{ changed_rows(config.get('meta')) }}
    {%- endif -%}
{%- endmacro %}

{#
    The config `meta` of the model behind `relation` when this build changed only some of its rows
    (an incremental build on DuckDB that recorded its changes) and the model states which. None
    otherwise (a build of every row, --full-refresh, another engine, or a model that states none).
#}
{% macro changed_rows_of(relation) -%}
    {%- set recorded = source('build', 'changed_figures') -%}
    {%- if not execute or flags.FULL_REFRESH or target.type != 'duckdb' or relation is string -%}
        {{ return(none) }}
    {%- endif -%}
    {%- for node in graph.nodes.values() -%}
        {%- if node.resource_type == 'model' and node.alias == relation.identifier and node.schema == relation.schema -%}
            {%- if changed_rows_condition(node.config.meta) and load_relation(recorded) is not none -%}
                {{ return(node.config.meta) }}
            {%- endif -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(none) }}
{%- endmacro %}

{#
    The relation a data test reads (dbt's own macro, overridden as dbt's docs suggest for a `where`
    that needs a macro): in an incremental build, only the rows it rebuilt of a model that states
    what a change rebuilds; with the test's `where` as dbt applies it.
#}
{% macro get_where_subquery(relation) -%}
    {%- set where = config.get('where', '') -%}
    {%- set meta = changed_rows_of(relation) -%}
    {%- if meta -%}
        {%- set filtered -%}
            (select * from {{ relation }} as target where {{ changed_rows(meta) }}{% if where %} and ({{ where }}){% endif %}) dbt_subquery
        {%- endset -%}
        {%- do return(filtered) -%}
    {%- elif where -%}
        {%- do return('(select * from ' ~ relation ~ ' where ' ~ where ~ ') dbt_subquery') -%}
    {%- else -%}
        {%- do return(relation) -%}
    {%- endif -%}
{%- endmacro %}

{#
    Condition: a changed figure (`changed`) and a figure (`figure`) of the same series whose growth
    rate it can change: the figure itself, or one starting within a year and a month after the
    changed figure ends (every prior a growth rate may use ends before its figure starts and at most
    a year earlier; the month is room for month ends and leap days).
#}
{% macro growth_depends_on(figure, changed) -%}
    (
        ({{ null_safe_equals(figure ~ '.period_start', changed ~ '.period_start') }} and {{ figure }}.period_end = {{ changed }}.period_end)
        or (
            {{ figure }}.period_start > {{ changed }}.period_end
            and {{ figure }}.period_start <= cast({{ dbt.dateadd('month', 13, changed ~ '.period_end') }} as date)
        )
    )
{%- endmacro %}

{#
    The first day of the month a changed figure ends in: the month of int_monthly_figures it can
    serve (as the single month or the year to date), the next month (as the previous year-to-date
    figure) and, in monthly_figures, those months a year on (their growth).
#}
{% macro changed_month(changed) -%}
    cast({{ dbt.date_trunc('month', changed ~ '.period_end') }} as date)
{%- endmacro %}

{# Condition: `month` (a first day) is one of `months_after` months from the changed figure's month. #}
{% macro month_within(month, changed, months_after) -%}
    {{ month }} in (
        {%- for offset in months_after %}
        cast({{ dbt.dateadd('month', offset, changed_month(changed)) }} as date){{ ',' if not loop.last }}
        {%- endfor %}
    )
{%- endmacro %}

{#
    Post-hook: every row of an incremental mart carries this run's id (macros/run_id_stamp.sql),
    the rows kept from earlier builds too, so that one query can still tell that the marts it
    read come from one publish. The column is replaced, not updated: an update of every row keeps
    each old value in memory until the commit (900 MB for the 11M rows of growth_rates at 10M rows,
    beyond the 2 GB budget with two models at once), while a new column of one constant value is
    written in a fraction of a second. run_id is every mart's last column (their contracts), so it
    stays last; its not-null constraint and description are put back.
#}
{% macro restamp_run_id() -%}
    {%- if is_incremental() -%}
    {%- set run_id = env_var("OUTBOUND_RUN_ID", "manual") if execute else "parsing" -%}
    {%- set description = model.columns.get('run_id', {}).get('description', '') if execute else '' -%}
    alter table {{ this }} drop column run_id;
    alter table {{ this }} add column run_id {{ dbt.type_string() }} default '{{ run_id }}';
    alter table {{ this }} alter column run_id drop default;
    alter table {{ this }} alter column run_id set not null;
    comment on column {{ this }}.run_id is '{{ description | replace("'", "''") }}'
    {%- endif -%}
{%- endmacro %}
