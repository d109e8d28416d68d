{#- Every raw weekly interval of a schedule (minutes since Sunday 00:00 local time) with its
    schedule id, `_quarantine_reason` (null = usable) and `_dedup_rank`. Key: the schedule
    and the interval's start minute. An interval must lie within the week (0..10080) and end
    after it starts. -#}
with

source as (
    select * from {{ source('raw_zendesk', 'schedules__intervals') }}
),

schedules as (
    select
        _dlt_id,
        id as schedule_id,
        _dlt_load_id
    from {{ source('raw_zendesk', 'schedules') }}
),

staged_schedules as (
    select schedule_id from {{ ref('stg_zendesk__schedules') }}
),

renamed as (
    select
        ---------- ids
        schedules.schedule_id,
        ---------- numerics
        cast(source.start_time as integer) as start_minute,
        cast(source.end_time as integer) as end_minute,
        ---------- metadata
        schedules._dlt_load_id,
        source._dlt_id
    from source
    left join schedules
        on source._dlt_parent_id = schedules._dlt_id
),

validated as (
    select
        renamed.*,
        case
            when renamed.schedule_id is null or renamed.start_minute is null then 'missing primary key'
            when staged_schedules.schedule_id is null then 'orphan reference: schedule'
            when
                renamed.end_minute is null
                or renamed.start_minute < 0
                or renamed.end_minute > 10080
                or renamed.end_minute <= renamed.start_minute
                then 'invalid interval'
        end as _quarantine_reason
    from renamed
    left join staged_schedules
        on renamed.schedule_id = staged_schedules.schedule_id
),

ranked as (
    select
        *,
        {{ dedup_rank(['schedule_id', 'start_minute']) }} as _dedup_rank,
        {{ source_key(['schedule_id', 'start_minute']) }} as _source_key
    from validated
)

select * from ranked
