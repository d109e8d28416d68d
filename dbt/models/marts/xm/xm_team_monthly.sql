{#- Per calendar month and support team (a team of the department
    var('support_department', 'Customer Support')): the team's employee experience (headcount,
    separations, turnover, pulse eNPS and engagement, suppressed per var('min_respondents')
    with secondary suppression against the department row of ex_metrics_monthly) beside the
    customer experience of the tickets it solved: tickets whose last solve fell in the
    month and whose team (fct_tickets: the assignee's team when solved) is this team, and
    the CSAT answers on those tickets. -#}
{%- set support_department = var('support_department', 'Customer Support') %}
with

months as (
    select * from {{ ref('int_ex_months') }}
),

team_history as (
    select * from {{ ref('int_employee_team_history') }}
),

snapshots as (
    select * from {{ ref('int_employee_headcount_snapshots') }}
    where department = '{{ support_department }}'
),

movements as (
    select * from {{ ref('int_employee_movements') }}
    where department = '{{ support_department }}'
),

survey as (
    select * from {{ ref('int_ex_survey_published') }}
    where
        group_level = 'team'
        and department = '{{ support_department }}'
),

tickets as (
    select * from {{ ref('fct_tickets') }}
),

survey_responses as (
    select * from {{ ref('fct_survey_responses') }}
),

support_teams as (
    select distinct team_history.team
    from team_history
    where
        team_history.department = '{{ support_department }}'
        and team_history.team is not null
    union
    select distinct survey.team from survey
),

solved_tickets as (
    select
        tickets.ticket_id,
        tickets.team,
        {{ cx_utc_month('tickets.last_solved_at') }} as month,
        tickets.first_reply_business_minutes,
        tickets.full_resolution_business_minutes,
        tickets.is_one_touch_resolution
    from tickets
    where
        tickets.is_solved
        and tickets.last_solved_at is not null
        and tickets.team in (select support_teams.team from support_teams)
),

headcounts as (
    select
        snapshots.month,
        snapshots.team,
        count(distinct case when snapshots.snapshot = 'first_day' then snapshots.employee_id end)
            as headcount_start,
        count(distinct case when snapshots.snapshot = 'last_day' then snapshots.employee_id end)
            as headcount_end
    from snapshots
    where snapshots.team in (select support_teams.team from support_teams)
    group by snapshots.month, snapshots.team
),

separations as (
    select
        movements.month,
        movements.team,
        count(*) as separations
    from movements
    where
        movements.movement_type = 'separation'
        and movements.team in (select support_teams.team from support_teams)
    group by movements.month, movements.team
),

ticket_outcomes as (
    select
        solved_tickets.month,
        solved_tickets.team,
        count(*) as tickets_solved,
        {{ ex_median('solved_tickets.full_resolution_business_minutes') }}
            as full_resolution_median_business_minutes,
        {{ ex_median('solved_tickets.first_reply_business_minutes') }}
            as first_reply_median_business_minutes,
        sum(case when solved_tickets.is_one_touch_resolution then 1 else 0 end) as one_touch_tickets
    from solved_tickets
    group by solved_tickets.month, solved_tickets.team
),

csat as (
    select
        solved_tickets.month,
        solved_tickets.team,
        count(*) as csat_responses,
        sum(case when survey_responses.score >= 4 then 1 else 0 end) as csat_satisfied
    from survey_responses
    inner join solved_tickets
        on survey_responses.ticket_id = solved_tickets.ticket_id
    where
        survey_responses.survey_kind = 'csat'
        and survey_responses.score between 1 and 5
    group by solved_tickets.month, solved_tickets.team
),

month_teams as (
    select
        headcounts.month,
        headcounts.team
    from headcounts
    union
    select
        separations.month,
        separations.team
    from separations
    union
    select
        survey.month,
        survey.team
    from survey
    union
    select
        ticket_outcomes.month,
        ticket_outcomes.team
    from ticket_outcomes
),

joined as (
    select
        months.month,
        month_teams.team,
        coalesce(headcounts.headcount_start, 0) as headcount_start,
        coalesce(headcounts.headcount_end, 0) as headcount_end,
        coalesce(separations.separations, 0) as separations,
        survey.respondents,
        survey.enps_promoters,
        survey.enps_passives,
        survey.enps_detractors,
        survey.enps,
        survey.engagement_answers,
        survey.engagement_favorable,
        survey.engagement,
        coalesce(survey.is_suppressed, true) as is_suppressed,
        coalesce(ticket_outcomes.tickets_solved, 0) as tickets_solved,
        coalesce(csat.csat_responses, 0) as csat_responses,
        coalesce(csat.csat_satisfied, 0) as csat_satisfied,
        ticket_outcomes.full_resolution_median_business_minutes,
        ticket_outcomes.first_reply_median_business_minutes,
        coalesce(ticket_outcomes.one_touch_tickets, 0) as one_touch_tickets
    from month_teams
    inner join months
        on month_teams.month = months.month
    left join headcounts
        on
            month_teams.month = headcounts.month
            and month_teams.team = headcounts.team
    left join separations
        on
            month_teams.month = separations.month
            and month_teams.team = separations.team
    left join survey
        on
            month_teams.month = survey.month
            and month_teams.team = survey.team
    left join ticket_outcomes
        on
            month_teams.month = ticket_outcomes.month
            and month_teams.team = ticket_outcomes.team
    left join csat
        on
            month_teams.month = csat.month
            and month_teams.team = csat.team
)

select
    month,
    cast(team as {{ dbt.type_string() }}) as team,
    cast(headcount_start as {{ dbt.type_bigint() }}) as headcount_start,
    cast(headcount_end as {{ dbt.type_bigint() }}) as headcount_end,
    cast((headcount_start + headcount_end) / 2.0 as {{ ex_type_double() }}) as average_headcount,
    cast(separations as {{ dbt.type_bigint() }}) as separations,
    {{ ex_ratio('separations', '(headcount_start + headcount_end) / 2.0') }} as turnover_rate,
    cast(respondents as {{ dbt.type_bigint() }}) as respondents,
    cast(enps_promoters as {{ dbt.type_bigint() }}) as enps_promoters,
    cast(enps_passives as {{ dbt.type_bigint() }}) as enps_passives,
    cast(enps_detractors as {{ dbt.type_bigint() }}) as enps_detractors,
    cast(enps as {{ ex_type_double() }}) as enps,
    cast(engagement_answers as {{ dbt.type_bigint() }}) as engagement_answers,
    cast(engagement_favorable as {{ dbt.type_bigint() }}) as engagement_favorable,
    cast(engagement as {{ ex_type_double() }}) as engagement,
    is_suppressed,
    cast(tickets_solved as {{ dbt.type_bigint() }}) as tickets_solved,
    cast(csat_responses as {{ dbt.type_bigint() }}) as csat_responses,
    cast(csat_satisfied as {{ dbt.type_bigint() }}) as csat_satisfied,
    {{ ex_ratio('csat_satisfied', 'csat_responses', 100) }} as csat,
    cast(full_resolution_median_business_minutes as {{ ex_type_double() }})
        as full_resolution_median_business_minutes,
    cast(first_reply_median_business_minutes as {{ ex_type_double() }})
        as first_reply_median_business_minutes,
    cast(one_touch_tickets as {{ dbt.type_bigint() }}) as one_touch_tickets,
    {{ ex_ratio('one_touch_tickets', 'tickets_solved') }} as one_touch_rate
from joined
