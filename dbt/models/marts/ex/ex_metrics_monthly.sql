{#- Employee experience per calendar month and department: headcount on the first and
    last day, hires, separations, transfers, turnover, and the pulse survey's eNPS and
    engagement with their parts, suppressed per var('min_respondents') (see
    int_ex_survey_published). One row per month and department with any headcount,
    movement or survey response that month: the department rows of int_ex_group_monthly.
    No company total is published. `is_complete_month` (int_ex_months): the HR and survey
    data have passed the whole month; other rows are the month to date. -#}
with

departments as (
    select * from {{ ref('int_ex_group_monthly') }}
    where group_level = 'department'
),

months as (
    select * from {{ ref('int_ex_months') }}
),

department_months as (
    select
        departments.*,
        months.is_complete_month
    from departments
    inner join months
        on departments.month = months.month
)

select
    month,
    group_name as department,
    is_complete_month,
    headcount_start,
    headcount_end,
    average_headcount,
    hires,
    separations,
    voluntary_separations,
    involuntary_separations,
    transfers_in,
    transfers_out,
    turnover_rate,
    voluntary_turnover_rate,
    involuntary_turnover_rate,
    respondents,
    enps_promoters,
    enps_passives,
    enps_detractors,
    enps,
    engagement_answers,
    engagement_favorable,
    engagement,
    is_suppressed
from department_months
