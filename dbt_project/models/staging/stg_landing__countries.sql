with

source as (

    select * from {{ source('landing', 'countries') }}

),

renamed as (

    select
        cast(country as {{ dbt.type_string() }}) as country,
        cast(iso2 as {{ dbt.type_string() }}) as iso2_code,
        cast(region as {{ dbt.type_string() }}) as region,
        cast(_file as {{ dbt.type_string() }}) as source_file,
        cast(_line as {{ dbt.type_bigint() }}) as source_line

    from source

)

select * from renamed
