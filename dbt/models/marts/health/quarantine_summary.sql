{#- Rows quarantined by staging, counted per raw table and reason: what the data-health page
    and BI show of the quarantine without publishing a single quarantined row (the rows, with
    their keys, stay in the warehouse's `quarantine` schema). Reasons are the fixed texts of
    the base models, never vendor values. -#}
with

quarantined as (
    select * from {{ ref('quarantine') }}
),

counted as (
    select
        source_table,
        reason,
        count(*) as quarantined_rows
    from quarantined
    group by source_table, reason
)

select
    cast(source_table as {{ sql_type('varchar') }}) as source_table,
    cast(reason as {{ sql_type('varchar') }}) as reason,
    cast(quarantined_rows as {{ dbt.type_bigint() }}) as quarantined_rows
from counted
