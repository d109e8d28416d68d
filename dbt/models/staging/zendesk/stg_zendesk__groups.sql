with

groups as (
    select * from {{ ref('base_zendesk__groups') }}
    where _quarantine_reason is null and _dedup_rank = 1
),

final as (
    select
        ---------- ids
        group_id,
        ---------- strings
        group_name,
        ---------- booleans
        is_deleted
    from groups
)

select * from final
