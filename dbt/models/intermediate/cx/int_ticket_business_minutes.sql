-- One row per ticket: first reply and full resolution time in business minutes, i.e. the
-- overlap of [created_at, first_reply_at) and [created_at, last_solved_at) with the help
-- desk's own schedule, holidays removed.
--
-- Set-based: a calendar of business intervals, built day by day in the schedule's local
-- time and converted to UTC per date (so each date gets its own UTC offset: DST-correct),
-- joined to the spans by overlap.
-- Incremental by ticket: a run rebuilds the tickets loaded since its newest load. Schedule
-- and holiday edits reach older tickets on a full rebuild (`--full-refresh`).
{{
    config(
        materialized=incremental_or_table(),
        unique_key='ticket_id',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        post_hook=["{{ delete_vanished_tickets(ref('int_ticket_reply_times')) }}"]
    )
}}
with

ticket_loads as (
    select * from {{ ref('stg_zendesk__ticket_loads') }}
    {% if is_incremental() %}where {{ loaded_after_this('_rebuild_load_id') }}{% endif %}
),

tickets as (
    select reply_times.*
    from {{ ref('int_ticket_reply_times') }} as reply_times
    inner join ticket_loads
        on reply_times.ticket_id = ticket_loads.ticket_id
),

schedules as (
    select * from {{ ref('stg_zendesk__schedules') }}
),

schedule_intervals as (
    select * from {{ ref('stg_zendesk__schedule_intervals') }}
),

schedule_holidays as (
    select * from {{ ref('stg_zendesk__schedule_holidays') }}
),

-- the help desk's own schedule; an account with several uses its first (lowest id)
help_desk_schedule as (
    select
        schedule_id,
        time_zone
    from schedules
    where schedule_id = (select min(all_schedules.schedule_id) from schedules as all_schedules)
),

spans as (
    select
        ticket_id,
        'first_reply' as measure,
        created_at as start_at,
        first_reply_at as end_at
    from tickets
    where first_reply_at is not null

    union all

    select
        ticket_id,
        'full_resolution' as measure,
        created_at as start_at,
        last_solved_at as end_at
    from tickets
    where last_solved_at is not null
),

span_dates as (
    select
        {{ cx_utc_date('start_at') }} as start_date,
        {{ cx_utc_date('end_at') }} as end_date
    from spans
),

-- local dates that can touch any span: its UTC dates widened by a day on each side
date_range as (
    select
        cast({{ dbt.dateadd('day', -1, 'min(start_date)') }} as date) as first_date,
        cast({{ dbt.dateadd('day', 1, 'max(end_date)') }} as date) as last_date
    from span_dates
),

day_numbers as (
    -- up to 100 years of dates
    {{ dbt.generate_series(36525) }}
),

local_dates as (
    select
        cast(
            {{ dbt.dateadd('day', 'day_numbers.generated_number - 1', 'date_range.first_date') }} as date
        ) as local_date
    from date_range
    cross join day_numbers
    where
        day_numbers.generated_number - 1
        <= {{ dbt.datediff('date_range.first_date', 'date_range.last_date', 'day') }}
),

schedule_days as (
    select
        help_desk_schedule.schedule_id,
        help_desk_schedule.time_zone,
        local_dates.local_date,
        -- 0 = Sunday, counted from a known Sunday (portable, unlike day-of-week functions)
        mod(
            {{ dbt.datediff("cast('1970-01-04' as date)", 'local_dates.local_date', 'day') }}, 7
        ) as day_of_week
    from help_desk_schedule
    cross join local_dates
),

working_days as (
    select schedule_days.*
    from schedule_days
    left join schedule_holidays
        on
            schedule_days.schedule_id = schedule_holidays.schedule_id
            and schedule_days.local_date >= schedule_holidays.start_date
            and schedule_days.local_date <= schedule_holidays.end_date
    where schedule_holidays.schedule_id is null
),

-- each weekly interval (minutes since Sunday 00:00) clipped to the day it falls on
local_intervals as (
    select
        working_days.schedule_id,
        working_days.time_zone,
        working_days.local_date,
        greatest(schedule_intervals.start_minute, working_days.day_of_week * 1440)
        - working_days.day_of_week * 1440 as start_minute_of_day,
        least(schedule_intervals.end_minute, (working_days.day_of_week + 1) * 1440)
        - working_days.day_of_week * 1440 as end_minute_of_day
    from working_days
    inner join schedule_intervals
        on
            working_days.schedule_id = schedule_intervals.schedule_id
            and schedule_intervals.start_minute < (working_days.day_of_week + 1) * 1440
            and schedule_intervals.end_minute > working_days.day_of_week * 1440
),

local_bounds as (
    select
        local_date,
        time_zone,
        {{ dbt.dateadd(
            'minute', 'start_minute_of_day', 'cast(local_date as ' ~ dbt.type_timestamp() ~ ')'
        ) }} as local_start,
        {{ dbt.dateadd(
            'minute', 'end_minute_of_day', 'cast(local_date as ' ~ dbt.type_timestamp() ~ ')'
        ) }} as local_end
    from local_intervals
),

-- wall-clock bounds read in the schedule's time zone on their own date: DST-correct
business_intervals as (
    select
        local_date,
        {{ cx_local_to_utc('local_start', 'time_zone') }} as start_at,
        {{ cx_local_to_utc('local_end', 'time_zone') }} as end_at
    from local_bounds
),

span_overlaps as (
    select
        spans.ticket_id,
        spans.measure,
        coalesce(
            sum(
                {{ cx_minutes_between(
                    'case when spans.start_at > business_intervals.start_at'
                    ~ ' then spans.start_at else business_intervals.start_at end',
                    'case when spans.end_at < business_intervals.end_at'
                    ~ ' then spans.end_at else business_intervals.end_at end'
                ) }}
            ),
            0
        ) as business_minutes
    from spans
    left join business_intervals
        on
            spans.end_at > business_intervals.start_at
            and spans.start_at < business_intervals.end_at
    group by
        spans.ticket_id,
        spans.measure
),

final as (
    select
        tickets.ticket_id,
        max(case when span_overlaps.measure = 'first_reply' then span_overlaps.business_minutes end)
            as first_reply_business_minutes,
        max(case when span_overlaps.measure = 'full_resolution' then span_overlaps.business_minutes end)
            as full_resolution_business_minutes,
        max(tickets._dlt_load_id) as _dlt_load_id
    from tickets
    left join span_overlaps
        on tickets.ticket_id = span_overlaps.ticket_id
    group by tickets.ticket_id
)

select * from final
