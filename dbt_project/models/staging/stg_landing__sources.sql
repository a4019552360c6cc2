with

source as (

    select * from {{ source('landing', 'sources') }}

),

renamed as (

    select
        cast(source_id as {{ dbt.type_string() }}) as source_id,
        cast(title as {{ dbt.type_string() }}) as title,
        cast(publisher as {{ dbt.type_string() }}) as publisher,
        cast(published_on as date) as published_on,
        cast(document as {{ dbt.type_string() }}) as document_name,
        cast(url as {{ dbt.type_string() }}) as url,
        cast(_file as {{ dbt.type_string() }}) as source_file,
        cast(_line as {{ dbt.type_bigint() }}) as source_line

    from source

)

select * from renamed
