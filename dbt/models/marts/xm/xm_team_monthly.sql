{#- Per calendar month and support team (a team of the department
    var('support_department', 'Customer Support')): the team's employee experience (headcount,
    separations, turnover, pulse eNPS and engagement, suppressed per var('min_respondents')
    with secondary suppression against the department row of ex_metrics_monthly), the team
    rows of int_ex_group_monthly, beside the customer experience of the tickets it solved:
    tickets whose last solve fell in the month and whose team (fct_tickets: the assignee's
    team when solved) is this team, and the CSAT answers on those tickets; and the team's SLA
    attainment (cx_sla_monthly summed over SLA metrics and priorities: instances decided in
    the month whose assignee was in the team when the SLA applied). -#}
{%- set support_department = var('support_department', 'Customer Support') %}
with

months as (
    select * from {{ ref('int_ex_months') }}
),

horizons as (
    select * from {{ ref('int_source_horizons') }}
),

team_history as (
    select * from {{ ref('int_employee_team_history') }}
),

ex_teams as (
    select * from {{ ref('int_ex_group_monthly') }}
    where
        group_level = 'team'
        and department = '{{ support_department }}'
),

-- only to know the support teams: every team that ever had a survey response
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

sla_monthly as (
    select * from {{ ref('cx_sla_monthly') }}
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

-- the team-months with any headcount, separation or survey response (hires and transfers
-- alone do not make a row here)
team_experience as (
    select *
    from ex_teams
    where
        group_name in (select support_teams.team from support_teams)
        and (
            headcount_start + headcount_end > 0
            or separations > 0
            or has_survey_responses
        )
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

sla_outcomes as (
    select
        sla_monthly.month,
        sla_monthly.team,
        sum(sla_monthly.achieved) as sla_achieved,
        sum(sla_monthly.breached) as sla_breached
    from sla_monthly
    where sla_monthly.team in (select support_teams.team from support_teams)
    group by sla_monthly.month, sla_monthly.team
),

month_teams as (
    select
        team_experience.month,
        team_experience.group_name as team
    from team_experience
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
        -- the EX sources (int_ex_months) and the help desk have passed the whole month
        coalesce(
            months.is_complete_month
            and horizons.zendesk_loaded_through_date > months.month_end_date,
            false
        ) as is_complete_month,
        coalesce(team_experience.headcount_start, 0) as headcount_start,
        coalesce(team_experience.headcount_end, 0) as headcount_end,
        coalesce(team_experience.average_headcount, 0) as average_headcount,
        coalesce(team_experience.separations, 0) as separations,
        team_experience.turnover_rate,
        team_experience.respondents,
        team_experience.enps_promoters,
        team_experience.enps_passives,
        team_experience.enps_detractors,
        team_experience.enps,
        team_experience.engagement_answers,
        team_experience.engagement_favorable,
        team_experience.engagement,
        coalesce(team_experience.is_suppressed, true) as is_suppressed,
        coalesce(ticket_outcomes.tickets_solved, 0) as tickets_solved,
        coalesce(csat.csat_responses, 0) as csat_responses,
        coalesce(csat.csat_satisfied, 0) as csat_satisfied,
        ticket_outcomes.full_resolution_median_business_minutes,
        ticket_outcomes.first_reply_median_business_minutes,
        coalesce(ticket_outcomes.one_touch_tickets, 0) as one_touch_tickets,
        coalesce(sla_outcomes.sla_achieved, 0) as sla_achieved,
        coalesce(sla_outcomes.sla_breached, 0) as sla_breached
    from month_teams
    inner join months
        on month_teams.month = months.month
    cross join horizons
    left join team_experience
        on
            month_teams.month = team_experience.month
            and month_teams.team = team_experience.group_name
    left join ticket_outcomes
        on
            month_teams.month = ticket_outcomes.month
            and month_teams.team = ticket_outcomes.team
    left join csat
        on
            month_teams.month = csat.month
            and month_teams.team = csat.team
    left join sla_outcomes
        on
            month_teams.month = sla_outcomes.month
            and month_teams.team = sla_outcomes.team
)

select
    month,
    cast(team as {{ dbt.type_string() }}) as team,
    is_complete_month,
    headcount_start,
    headcount_end,
    average_headcount,
    separations,
    turnover_rate,
    respondents,
    enps_promoters,
    enps_passives,
    enps_detractors,
    enps,
    engagement_answers,
    engagement_favorable,
    engagement,
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
    {{ ex_ratio('one_touch_tickets', 'tickets_solved') }} as one_touch_rate,
    cast(sla_achieved as {{ dbt.type_bigint() }}) as sla_achieved,
    cast(sla_breached as {{ dbt.type_bigint() }}) as sla_breached,
    {{ ex_ratio('sla_achieved', 'sla_achieved + sla_breached', 100) }} as sla_attainment
from joined
