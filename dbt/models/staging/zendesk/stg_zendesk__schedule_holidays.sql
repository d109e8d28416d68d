with

schedule_holidays as (
    select * from {{ ref('base_zendesk__schedule_holidays') }}
    where _quarantine_reason is null and _dedup_rank = 1
),

final as (
    select
        ---------- ids
        holiday_id,
        schedule_id,
        ---------- strings
        holiday_name,
        ---------- dates
        start_date,
        end_date
    from schedule_holidays
)

select * from final
