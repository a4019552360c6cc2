with

source as (

    select * from {{ source('landing', 'plant_launches') }}

),

renamed as (

    select
        cast(group_name as {{ dbt.type_string() }}) as group_name,
        cast(brand as {{ dbt.type_string() }}) as brand,
        cast(country as {{ dbt.type_string() }}) as country,
        cast(site as {{ dbt.type_string() }}) as site,
        cast(milestone as {{ dbt.type_string() }}) as milestone,
        cast(milestone_date as date) as milestone_date,
        cast(date_precision as {{ dbt.type_string() }}) as date_precision,
        cast(assembly_mode as {{ dbt.type_string() }}) as assembly_mode,
        cast(annual_capacity as {{ dbt.type_bigint() }}) as annual_capacity,
        cast(first_model as {{ dbt.type_string() }}) as first_model,
        cast(source_id as {{ dbt.type_string() }}) as source_id,
        cast(quote as {{ dbt.type_string() }}) as quote,
        cast(note as {{ dbt.type_string() }}) as note,
        cast(_file as {{ dbt.type_string() }}) as source_file,
        cast(_line as {{ dbt.type_bigint() }}) as source_line

    from source

)

select * from renamed
