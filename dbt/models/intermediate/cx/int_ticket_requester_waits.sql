{#- One row per ticket whose requester wait is complete (its latest status is solved or
    closed): the minutes it spent in new, open and on-hold, the statuses in which Zendesk's
    requester wait runs (pending pauses it; a reopen runs it again), up to its last solve, in
    calendar minutes and in business minutes of the help desk's schedule. The project's own
    figure, from the ticket's status history (int_ticket_status_changes), that sla_cross_check
    holds Zendesk's requester_wait_time SLA to. -#}
with

status_changes as (
    select * from {{ ref('int_ticket_status_changes') }}
),

sequenced as (
    select
        ticket_id,
        to_status,
        changed_at as start_at,
        lead(changed_at) over (
            partition by ticket_id order by status_change_number
        ) as end_at,
        row_number() over (
            partition by ticket_id order by status_change_number desc
        ) as rank_latest
    from status_changes
),

complete as (
    select ticket_id
    from sequenced
    where rank_latest = 1 and to_status in ('solved', 'closed')
),

spans as (
    select
        sequenced.ticket_id,
        'requester_wait' as measure,
        sequenced.start_at,
        sequenced.end_at
    from sequenced
    inner join complete
        on sequenced.ticket_id = complete.ticket_id
    where sequenced.to_status in ('new', 'open', 'hold')
),

{{ cx_business_span_overlaps() }},

calendar as (
    select
        ticket_id,
        sum({{ cx_minutes_between('start_at', 'end_at') }}) as calendar_minutes
    from spans
    group by ticket_id
)

select
    complete.ticket_id,
    cast(coalesce(calendar.calendar_minutes, 0) as {{ ex_type_double() }})
        as requester_wait_calendar_minutes,
    cast(coalesce(span_overlaps.business_minutes, 0) as {{ ex_type_double() }})
        as requester_wait_business_minutes
from complete
left join calendar
    on complete.ticket_id = calendar.ticket_id
left join span_overlaps
    on complete.ticket_id = span_overlaps.ticket_id
