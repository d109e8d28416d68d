{#- The published summary accounts for every quarantined row: per table and reason, and in
    total (a reason missing from the summary shows as a row here). -#}
with

summary as (
    select source_table, reason, quarantined_rows from {{ ref('quarantine_summary') }}
),

rows_ as (
    select source_table, reason, count(*) as quarantined_rows
    from {{ ref('quarantine') }}
    group by source_table, reason
)

select
    coalesce(s.source_table, r.source_table) as source_table,
    coalesce(s.reason, r.reason) as reason,
    s.quarantined_rows as published,
    r.quarantined_rows as counted
from summary as s
full outer join rows_ as r
    on s.source_table = r.source_table and s.reason = r.reason
where s.quarantined_rows is distinct from r.quarantined_rows
