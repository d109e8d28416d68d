{#- One row per customer whose first contract has started: how its onboarding went (the
    window the journey_stage_rules seed gives a first contract's start, `max_days`: the
    first 90 days by default) and what it did at its first renewal (the end of that
    contract). Without such a rule there is no onboarding to judge, and no row.

    - onboarding: tickets created in the window, their CSAT answers (whenever recorded) and
      SLA breaches in the window; `is_poor_onboarding` = CSAT under 50%; null when no
      onboarding ticket was rated (no evidence). Breaches are kept as a column, not a verdict:
      with six SLA metrics most onboardings with a ticket have one (DECISIONS.md, Journey).
    - `is_onboarding_observed`: the help desk's data covers the whole window (its first
      ticket in the warehouse is no later than the contract start, and the window has ended);
      onboardings before the help desk's history cannot be judged.
    - `first_renewal_outcome`: renewed or churned once HubSpot has wholly passed the
      contract's end (contract_ended touchpoint); null while pending. -#}
with

touchpoints as (
    select * from {{ ref('fct_customer_touchpoints') }}
),

rules as (
    select * from {{ ref('journey_stage_rules') }}
),

first_contracts as (
    select
        touchpoints.customer_id,
        touchpoints.deal_id,
        touchpoints.occurred_at as onboarding_started_at,
        {{ dbt.dateadd('day', 'rules.max_days', 'touchpoints.occurred_at') }} as onboarding_ended_at
    from touchpoints
    inner join rules
        on
            touchpoints.source_system = rules.source_system
            and touchpoints.activity = rules.activity
            and touchpoints.activity_value = rules.activity_value
    where
        touchpoints.activity = 'contract_started'
        and touchpoints.activity_value = 'first'
        and rules.max_days is not null
),

help_desk as (
    select
        min(occurred_at) as first_ticket_at,
        max(occurred_at) as last_ticket_event_at
    from touchpoints
    where source_system = 'zendesk'
),

onboarding_tickets as (
    select
        first_contracts.customer_id,
        touchpoints.ticket_id
    from first_contracts
    inner join touchpoints
        on
            first_contracts.customer_id = touchpoints.customer_id
            and touchpoints.activity = 'ticket_created'
            and first_contracts.onboarding_started_at <= touchpoints.occurred_at
            and first_contracts.onboarding_ended_at > touchpoints.occurred_at
),

ticket_counts as (
    select
        customer_id,
        count(*) as onboarding_tickets
    from onboarding_tickets
    group by customer_id
),

csat as (
    select
        onboarding_tickets.customer_id,
        count(*) as onboarding_csat_responses,
        sum(case when touchpoints.score >= 4 then 1 else 0 end) as onboarding_csat_satisfied
    from onboarding_tickets
    inner join touchpoints
        on
            onboarding_tickets.ticket_id = touchpoints.ticket_id
            and touchpoints.activity = 'csat_answered'
    group by onboarding_tickets.customer_id
),

breaches as (
    select
        first_contracts.customer_id,
        count(*) as onboarding_sla_breaches
    from first_contracts
    inner join touchpoints
        on
            first_contracts.customer_id = touchpoints.customer_id
            and touchpoints.activity = 'sla_breached'
            and first_contracts.onboarding_started_at <= touchpoints.occurred_at
            and first_contracts.onboarding_ended_at > touchpoints.occurred_at
    group by first_contracts.customer_id
),

renewals as (
    select
        touchpoints.deal_id,
        touchpoints.occurred_at as first_renewal_at,
        case when touchpoints.activity_value = 'renewed' then 'renewed' else 'churned' end
            as first_renewal_outcome
    from touchpoints
    where touchpoints.activity = 'contract_ended'
),

final as (
    select
        first_contracts.customer_id,
        first_contracts.onboarding_started_at,
        first_contracts.onboarding_ended_at,
        coalesce(
            help_desk.first_ticket_at <= first_contracts.onboarding_started_at
            and first_contracts.onboarding_ended_at <= help_desk.last_ticket_event_at,
            false
        ) as is_onboarding_observed,
        coalesce(ticket_counts.onboarding_tickets, 0) as onboarding_tickets,
        coalesce(csat.onboarding_csat_responses, 0) as onboarding_csat_responses,
        coalesce(csat.onboarding_csat_satisfied, 0) as onboarding_csat_satisfied,
        case
            when csat.onboarding_csat_responses > 0
                then 100.0 * csat.onboarding_csat_satisfied / csat.onboarding_csat_responses
        end as onboarding_csat,
        coalesce(breaches.onboarding_sla_breaches, 0) as onboarding_sla_breaches,
        case
            when csat.onboarding_csat_responses > 0
                then 2 * csat.onboarding_csat_satisfied < csat.onboarding_csat_responses
        end as is_poor_onboarding,
        renewals.first_renewal_at,
        renewals.first_renewal_outcome
    from first_contracts
    cross join help_desk
    left join ticket_counts on first_contracts.customer_id = ticket_counts.customer_id
    left join csat on first_contracts.customer_id = csat.customer_id
    left join breaches on first_contracts.customer_id = breaches.customer_id
    left join renewals on first_contracts.deal_id = renewals.deal_id
)

select * from final
