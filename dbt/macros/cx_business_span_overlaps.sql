{#- The business minutes of spans: the CTEs that read the help desk's own schedule (the
    account's first schedule: weekly intervals in minutes since Sunday 00:00 in its time
    zone), build its business intervals day by day in local time, converted to UTC per date
    (DST-correct), holidays (whole local days) removed, and end in `span_overlaps`: one row
    per (ticket_id, measure) of the CTE that must be named `spans` (ticket_id, measure,
    start_at, end_at), with its `business_minutes` (0 when it touches no business time).
    Used after the `spans` CTE and a comma: `{{ cx_business_span_overlaps() }},`. Shared by
    int_ticket_business_minutes and int_ticket_requester_waits. -#}
{% macro cx_business_span_overlaps() -%}
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
)
{%- endmacro %}
