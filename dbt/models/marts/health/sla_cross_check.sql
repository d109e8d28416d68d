{#- The independent cross-check of Zendesk's SLA engine (DECISIONS.md, "SLAs"): for every
    decided first-reply SLA instance of fct_sla_outcomes, and every decided requester-wait
    instance of a ticket whose wait is complete (solved or closed now), the outcome
    recomputed from the project's own figures against the target the engine applied:
    breached when the elapsed minutes exceed the target.
    - first reply (fct_tickets): the first public agent reply, or the first solve when there
      is none; the business minutes to it from the help desk's schedule, or calendar minutes
      for a calendar-hour target.
    - requester wait (int_ticket_requester_waits): the minutes the ticket spent in new, open
      and on-hold up to its last solve, from its status history.
    `agrees` says whether it matches the engine's status; every disagreement carries a
    `reason`, the first that applies:
    - 'solved without a public reply': the solve ended the first-reply metric and the project
      has no figure for it (reopened before a reply);
    - 'target re-applied': the policy or target changed while the instance ran;
    - 'fulfilment time differs': the engine's fulfilment is not the project's (first reply,
      or last solve);
    - 'business minutes differ': the engine's elapsed business minutes and the project's
      differ by more than a minute (schedule or holiday edits, DST);
    - 'at the target boundary': both agree on the elapsed time within a minute of the target;
    - 'unexplained'. -#}
with

outcomes as (
    select
        sla_instance_id,
        ticket_id,
        sla_metric,
        outcome_month,
        status as zendesk_status,
        target_minutes,
        is_business_hours,
        is_reapplied,
        fulfilled_at as zendesk_fulfilled_at,
        elapsed_business_minutes as zendesk_business_minutes
    from {{ ref('fct_sla_outcomes') }}
    where status in ('achieved', 'breached')
),

tickets as (
    select * from {{ ref('fct_tickets') }}
),

requester_waits as (
    select * from {{ ref('int_ticket_requester_waits') }}
),

first_reply as (
    select
        outcomes.*,
        tickets.first_reply_at is null as has_no_reply,
        coalesce(tickets.first_reply_at, tickets.first_solved_at) as recomputed_fulfilled_at,
        -- no public reply: the solve ends the wait; its minutes are the full resolution's
        -- when the ticket was solved once (else the project has no figure for it)
        case
            when tickets.first_reply_at is not null then tickets.first_reply_business_minutes
            when tickets.first_solved_at = tickets.last_solved_at
                then tickets.full_resolution_business_minutes
        end as recomputed_business_minutes,
        case
            when tickets.first_reply_at is not null and outcomes.is_business_hours
                then tickets.first_reply_business_minutes
            when tickets.first_reply_at is not null then tickets.first_reply_calendar_minutes
            when tickets.first_solved_at <> tickets.last_solved_at then null
            when outcomes.is_business_hours then tickets.full_resolution_business_minutes
            else tickets.full_resolution_calendar_minutes
        end as recomputed_elapsed_minutes
    from outcomes
    inner join tickets
        on outcomes.ticket_id = tickets.ticket_id
    where outcomes.sla_metric = 'first_reply_time'
),

requester_wait as (
    select
        outcomes.*,
        false as has_no_reply,
        tickets.last_solved_at as recomputed_fulfilled_at,
        requester_waits.requester_wait_business_minutes as recomputed_business_minutes,
        case
            when outcomes.is_business_hours then requester_waits.requester_wait_business_minutes
            else requester_waits.requester_wait_calendar_minutes
        end as recomputed_elapsed_minutes
    from outcomes
    inner join tickets
        on outcomes.ticket_id = tickets.ticket_id
    inner join requester_waits
        on outcomes.ticket_id = requester_waits.ticket_id
    where outcomes.sla_metric = 'requester_wait_time'
),

compared as (
    select * from first_reply
    union all
    select * from requester_wait
),

judged as (
    select
        compared.*,
        case
            when compared.recomputed_fulfilled_at is null then 'active'
            when compared.recomputed_elapsed_minutes is null then 'unknown'
            when compared.recomputed_elapsed_minutes > compared.target_minutes then 'breached'
            else 'achieved'
        end as recomputed_status
    from compared
)

select
    cast(sla_instance_id as {{ dbt.type_string() }}) as sla_instance_id,
    ticket_id,
    cast(sla_metric as {{ dbt.type_string() }}) as sla_metric,
    outcome_month,
    cast(zendesk_status as {{ dbt.type_string() }}) as zendesk_status,
    cast(recomputed_status as {{ dbt.type_string() }}) as recomputed_status,
    zendesk_status = recomputed_status as agrees,
    cast(
        case
            when zendesk_status = recomputed_status then null
            when has_no_reply then 'solved without a public reply'
            when is_reapplied then 'target re-applied'
            when zendesk_fulfilled_at is distinct from recomputed_fulfilled_at
                then 'fulfilment time differs'
            when
                is_business_hours
                and abs(zendesk_business_minutes - recomputed_business_minutes) > 1
                then 'business minutes differ'
            when abs(recomputed_elapsed_minutes - target_minutes) <= 1 then 'at the target boundary'
            else 'unexplained'
        end as {{ dbt.type_string() }}
    ) as reason,
    target_minutes,
    is_business_hours,
    zendesk_fulfilled_at,
    recomputed_fulfilled_at,
    cast(zendesk_business_minutes as {{ ex_type_double() }}) as zendesk_business_minutes,
    cast(recomputed_elapsed_minutes as {{ ex_type_double() }}) as recomputed_elapsed_minutes
from judged
