-- Every figure of every feed in one place, described in a sentence: what `outbound explain`
-- prints for the figure_refs of a mart row.
-- A view, not a table (issue 19): no mart reads it; `outbound explain` asks it for a few
-- figure_refs, and describing ten million figures at every build cost more than that.
{{ config(materialized='view') }}

with

reported as (

    select * from {{ ref('int_all_reported_figures') }}

),

plants as (

    select * from {{ ref('stg_landing__plant_launches') }}

),

reported_described as (

    select
        figure_ref,
        metric as feed,
        entity as subject,
        {{ figure_subject_text() }} || ', ' || {{ period_text('period_start', 'period_end') }} || ': '
            || coalesce({{ figure_units_text() }} || ' units', 'units not given')
            || coalesce(', ' || {{ format_pct('reported_yoy_pct') }} || ' year on year', '')
            as description,
        source_id,
        quote

    from reported

),

plants_described as (

    select
        {{ figure_ref('plant_launches') }} as figure_ref,
        'plant_launches' as feed,
        group_name || ' / ' || country || ' / ' || site as subject,
        group_name
            || case when brand <> group_name then ' (' || brand || ')' else '' end
            || ' ' || country || ' ' || site || ': ' || milestone || ' on '
            || cast(milestone_date as {{ dbt.type_string() }}) || ' (' || date_precision || ')'
            || coalesce(', capacity ' || {{ format_units('annual_capacity') }} || ' a year', '')
            || coalesce(', first model ' || first_model, '')
            as description,
        source_id,
        quote

    from plants

),

figures as (

    select * from reported_described

    union all

    select * from plants_described

)

select * from figures
