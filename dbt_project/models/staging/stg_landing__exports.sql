with

source as (

    select * from {{ source('landing', 'exports') }}

),

renamed as (

    select
        {{ reported_figure_columns() }}

    from source

)

select * from renamed
