-- A failing row is a count in cx_metrics_monthly that does not add up to its fact table
-- over all months: every non-deleted ticket is created in exactly one month, every solved
-- ticket with a last solve is solved in one month, and every valid survey answer is
-- recorded in one month. A difference means a month fell outside the month spine.
with

metrics as (
    select
        sum(tickets_created) as tickets_created,
        sum(tickets_last_solved) as tickets_last_solved,
        sum(nps_respondents) as nps_respondents,
        sum(csat_responses) as csat_responses,
        sum(ces_responses) as ces_responses
    from {{ ref('cx_metrics_monthly') }}
),

tickets as (
    select
        count(*) as tickets_created,
        count(last_solved_at) as tickets_last_solved
    from {{ ref('fct_tickets') }}
),

surveys as (
    select
        sum(case when survey_kind = 'nps' and score is not null then 1 else 0 end)
            as nps_respondents,
        sum(case when survey_kind = 'csat' and score is not null then 1 else 0 end)
            as csat_responses,
        sum(case when survey_kind = 'ces' and score is not null then 1 else 0 end)
            as ces_responses
    from {{ ref('fct_survey_responses') }}
)

select
    metrics.tickets_created,
    tickets.tickets_created as fact_tickets_created,
    metrics.tickets_last_solved,
    tickets.tickets_last_solved as fact_tickets_last_solved,
    metrics.nps_respondents,
    surveys.nps_respondents as fact_nps_respondents,
    metrics.csat_responses,
    surveys.csat_responses as fact_csat_responses,
    metrics.ces_responses,
    surveys.ces_responses as fact_ces_responses
from metrics
cross join tickets
cross join surveys
where
    metrics.tickets_created <> tickets.tickets_created
    or metrics.tickets_last_solved <> tickets.tickets_last_solved
    or metrics.nps_respondents <> surveys.nps_respondents
    or metrics.csat_responses <> surveys.csat_responses
    or metrics.ces_responses <> surveys.ces_responses
