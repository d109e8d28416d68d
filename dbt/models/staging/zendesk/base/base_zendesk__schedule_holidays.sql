{#- Every raw schedule holiday with its dates parsed, `_quarantine_reason` (null = usable)
    and `_dedup_rank`. A holiday must have both dates, in order, and a staged schedule. -#}
with

source as (
    select * from {{ source('raw_zendesk', 'schedule_holidays') }}
),

staged_schedules as (
    select schedule_id from {{ ref('stg_zendesk__schedules') }}
),

renamed as (
    select
        ---------- ids
        id as holiday_id,
        _schedules_id as schedule_id,
        ---------- strings
        nullif(trim(name), '') as holiday_name,
        ---------- dates
        {{ parse_vendor_date('start_date') }} as start_date,
        {{ parse_vendor_date('end_date') }} as end_date,
        ---------- raw values, for validation
        start_date as raw_start_date,
        end_date as raw_end_date,
        ---------- metadata
        _dlt_load_id,
        _dlt_id
    from source
),

validated as (
    select
        renamed.*,
        case
            when renamed.holiday_id is null then 'missing primary key'
            when
                {{ is_unparseable('renamed.raw_start_date', 'renamed.start_date') }}
                or {{ is_unparseable('renamed.raw_end_date', 'renamed.end_date') }}
                then 'unparseable date'
            when renamed.start_date is null or renamed.end_date is null then 'missing date'
            when renamed.end_date < renamed.start_date then 'invalid date range'
            when staged_schedules.schedule_id is null then 'orphan reference: schedule'
        end as _quarantine_reason
    from renamed
    left join staged_schedules
        on renamed.schedule_id = staged_schedules.schedule_id
),

ranked as (
    select
        *,
        {{ dedup_rank(['holiday_id']) }} as _dedup_rank,
        {{ source_key(['holiday_id']) }} as _source_key
    from validated
)

select * from ranked
