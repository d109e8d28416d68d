with

schedules as (
    select * from {{ ref('base_zendesk__schedules') }}
    where _quarantine_reason is null and _dedup_rank = 1
),

final as (
    select
        ---------- ids
        schedule_id,
        ---------- strings
        schedule_name,
        time_zone
    from schedules
)

select * from final
