-- A failing row is a ticket in fct_tickets whose timeline or counts contradict each other:
-- a reply or solve before creation, a last solve before the first, more business than
-- calendar minutes, negative minutes, minutes present without their end (or an end without
-- its calendar minutes), a one-touch ticket that is unsolved, reopened or not answered
-- exactly once, or a last solve on an unsolved ticket.
{{ config(severity='error') }}

select
    ticket_id,
    created_at,
    first_reply_at,
    first_solved_at,
    last_solved_at,
    first_reply_calendar_minutes,
    first_reply_business_minutes,
    full_resolution_calendar_minutes,
    full_resolution_business_minutes,
    count_public_agent_replies,
    count_reopens,
    is_solved,
    is_one_touch_resolution
from {{ ref('fct_tickets') }}
where
    first_reply_at < created_at
    or first_solved_at < created_at
    or last_solved_at < first_solved_at
    or first_reply_business_minutes > first_reply_calendar_minutes + 1e-6
    or full_resolution_business_minutes > full_resolution_calendar_minutes + 1e-6
    or first_reply_calendar_minutes < 0
    or first_reply_business_minutes < 0
    or full_resolution_calendar_minutes < 0
    or full_resolution_business_minutes < 0
    or (first_reply_at is null) <> (first_reply_calendar_minutes is null)
    or (last_solved_at is null) <> (full_resolution_calendar_minutes is null)
    or (first_reply_at is null and first_reply_business_minutes is not null)
    or (last_solved_at is null and full_resolution_business_minutes is not null)
    or (is_one_touch_resolution and (
        not is_solved or count_reopens > 0 or count_public_agent_replies <> 1
    ))
    or (last_solved_at is not null and not is_solved)
