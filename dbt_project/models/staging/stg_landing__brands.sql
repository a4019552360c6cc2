with

source as (

    select * from {{ source('landing', 'brands') }}

),

renamed as (

    select
        cast(brand as {{ dbt.type_string() }}) as brand,
        cast(group_name as {{ dbt.type_string() }}) as group_name,
        cast(positioning as {{ dbt.type_string() }}) as positioning,
        cast(_file as {{ dbt.type_string() }}) as source_file,
        cast(_line as {{ dbt.type_bigint() }}) as source_line

    from source

)

select * from renamed
