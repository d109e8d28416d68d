{#- One row per UTC month x journey stage: the customer experience of the customers in that
    stage. Tickets and their first reply count by month created, full resolution by month
    of the last solve, both in the stage the customer was in when the ticket was created;
    CSAT and CES answers count by month recorded in the stage of their ticket's creation (the
    experience they rate), NPS answers in the stage at the answer; SLA breaches by month and
    stage of the breach. `customers_in_stage`: customers with a spell of the stage
    overlapping the month. Ratios ship with their parts (definitions as cx_metrics_monthly).
    `is_complete_month` is cx_metrics_monthly's: the same sources (HubSpot for the stages,
    Zendesk, Qualtrics) decide both, so the flag is declared once, there. -#}
with

touchpoints as (
    select * from {{ ref('fct_customer_touchpoints') }}
),

tickets as (
    select * from {{ ref('fct_tickets') }}
),

spells as (
    select * from {{ ref('fct_customer_stage_spells') }}
),

stages as (
    select * from {{ ref('journey_stages') }}
),

cx_months as (
    select * from {{ ref('cx_metrics_monthly') }}
),

ticket_stages as (
    select
        ticket_id,
        journey_stage
    from touchpoints
    where activity = 'ticket_created' and journey_stage is not null
),

ticket_rows as (
    select
        tickets.*,
        ticket_stages.journey_stage
    from tickets
    inner join ticket_stages
        on tickets.ticket_id = ticket_stages.ticket_id
),

created as (
    select
        {{ cx_utc_month('created_at') }} as month,
        journey_stage,
        count(*) as tickets_created,
        count(first_reply_at) as tickets_with_first_reply,
        {{ ex_median('first_reply_calendar_minutes') }} as first_reply_median_calendar_minutes,
        {{ ex_median('first_reply_business_minutes') }} as first_reply_median_business_minutes
    from ticket_rows
    group by {{ cx_utc_month('created_at') }}, journey_stage
),

resolved as (
    select
        {{ cx_utc_month('last_solved_at') }} as month,
        journey_stage,
        count(*) as tickets_last_solved,
        {{ ex_median('full_resolution_calendar_minutes') }} as full_resolution_median_calendar_minutes,
        {{ ex_median('full_resolution_business_minutes') }} as full_resolution_median_business_minutes
    from ticket_rows
    where last_solved_at is not null
    group by {{ cx_utc_month('last_solved_at') }}, journey_stage
),

answers as (
    select
        {{ cx_utc_month('answers.occurred_at') }} as month,
        coalesce(ticket_stages.journey_stage, answers.journey_stage) as journey_stage,
        answers.activity,
        answers.score
    from touchpoints as answers
    left join ticket_stages
        on answers.ticket_id = ticket_stages.ticket_id and answers.activity <> 'nps_answered'
    where answers.activity in ('csat_answered', 'ces_answered', 'nps_answered')
),

surveyed as (
    select
        month,
        journey_stage,
        sum(case when activity = 'csat_answered' then 1 else 0 end) as csat_responses,
        sum(case when activity = 'csat_answered' and score >= 4 then 1 else 0 end) as csat_satisfied,
        sum(case when activity = 'ces_answered' then 1 else 0 end) as ces_responses,
        sum(case when activity = 'ces_answered' then score else 0 end) as ces_score_sum,
        sum(case when activity = 'nps_answered' then 1 else 0 end) as nps_respondents,
        sum(case when activity = 'nps_answered' and score >= 9 then 1 else 0 end) as nps_promoters,
        sum(case when activity = 'nps_answered' and score <= 6 then 1 else 0 end) as nps_detractors
    from answers
    where journey_stage is not null
    group by month, journey_stage
),

breaches as (
    select
        {{ cx_utc_month('occurred_at') }} as month,
        journey_stage,
        count(*) as sla_breaches
    from touchpoints
    where activity = 'sla_breached' and journey_stage is not null
    group by {{ cx_utc_month('occurred_at') }}, journey_stage
),

keys as (
    select
        month,
        journey_stage
    from created
    union
    select
        month,
        journey_stage
    from resolved
    union
    select
        month,
        journey_stage
    from surveyed
    union
    select
        month,
        journey_stage
    from breaches
),

in_stage as (
    select
        keys.month,
        keys.journey_stage,
        count(distinct spells.customer_id) as customers_in_stage
    from keys
    inner join spells
        on
            keys.journey_stage = spells.journey_stage
            and {{ cx_utc_date('spells.entered_at') }} < {{ dbt.dateadd('month', 1, 'keys.month') }}
            and (spells.exited_at is null or {{ cx_utc_date('spells.exited_at') }} >= keys.month)
    group by keys.month, keys.journey_stage
),

final as (
    select
        keys.month,
        keys.journey_stage,
        stages.stage_order,
        coalesce(cx_months.is_complete_month, false) as is_complete_month,
        coalesce(in_stage.customers_in_stage, 0) as customers_in_stage,
        coalesce(created.tickets_created, 0) as tickets_created,
        coalesce(created.tickets_with_first_reply, 0) as tickets_with_first_reply,
        created.first_reply_median_calendar_minutes,
        created.first_reply_median_business_minutes,
        coalesce(resolved.tickets_last_solved, 0) as tickets_last_solved,
        resolved.full_resolution_median_calendar_minutes,
        resolved.full_resolution_median_business_minutes,
        coalesce(surveyed.csat_responses, 0) as csat_responses,
        coalesce(surveyed.csat_satisfied, 0) as csat_satisfied,
        case
            when surveyed.csat_responses > 0
                then 100.0 * surveyed.csat_satisfied / surveyed.csat_responses
        end as csat,
        coalesce(surveyed.ces_responses, 0) as ces_responses,
        coalesce(surveyed.ces_score_sum, 0) as ces_score_sum,
        case
            when surveyed.ces_responses > 0 then 1.0 * surveyed.ces_score_sum / surveyed.ces_responses
        end as ces,
        coalesce(surveyed.nps_respondents, 0) as nps_respondents,
        coalesce(surveyed.nps_promoters, 0) as nps_promoters,
        coalesce(surveyed.nps_detractors, 0) as nps_detractors,
        case
            when surveyed.nps_respondents > 0
                then 100.0 * (surveyed.nps_promoters - surveyed.nps_detractors) / surveyed.nps_respondents
        end as nps,
        coalesce(breaches.sla_breaches, 0) as sla_breaches
    from keys
    left join stages on keys.journey_stage = stages.journey_stage
    left join cx_months on keys.month = cx_months.month
    left join in_stage on keys.month = in_stage.month and keys.journey_stage = in_stage.journey_stage
    left join created on keys.month = created.month and keys.journey_stage = created.journey_stage
    left join resolved on keys.month = resolved.month and keys.journey_stage = resolved.journey_stage
    left join surveyed on keys.month = surveyed.month and keys.journey_stage = surveyed.journey_stage
    left join breaches on keys.month = breaches.month and keys.journey_stage = breaches.journey_stage
)

select * from final
