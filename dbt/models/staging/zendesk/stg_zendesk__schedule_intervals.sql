with

schedule_intervals as (
    select * from {{ ref('base_zendesk__schedule_intervals') }}
    where _quarantine_reason is null and _dedup_rank = 1
),

final as (
    select
        ---------- ids
        schedule_id,
        ---------- numerics
        start_minute,
        end_minute
    from schedule_intervals
)

select * from final
