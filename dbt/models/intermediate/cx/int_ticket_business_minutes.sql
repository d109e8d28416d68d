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
{%- set newest_load = newest_load_in_this() %}
with

ticket_loads as (
    select * from {{ ref('stg_zendesk__ticket_loads') }}
    {% if is_incremental() %}where {{ loaded_after(newest_load, '_rebuild_load_id') }}{% endif %}
),

tickets as (
    select reply_times.*
    from {{ ref('int_ticket_reply_times') }} as reply_times
    inner join ticket_loads
        on reply_times.ticket_id = ticket_loads.ticket_id
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

{{ cx_business_span_overlaps() }},

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
