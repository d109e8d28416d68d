{#- The calendar months the EX and XM marts report, with their first and last day. They
    run from the first month of the employee pulse survey (or `var('ex_first_month')`, a
    'YYYY-MM-DD' date, when set; or the first hire when there is no survey) to the month of
    the latest HR or survey event. Earlier months are left out on purpose: an HR system
    export can hold only the people employed since some date, so older headcounts would
    undercount the people who had already left. `is_complete_month`: the HR data has wholly
    passed the month's last day and the survey data has reached the next month (each by its
    own horizon, int_source_horizons); rows of other months are the month to date, their
    headcount at the month's end a projection of what HR knows today. -#}
with

pulse_answers as (
    select * from {{ ref('int_ex_pulse_answers') }}
),

employment_periods as (
    select * from {{ ref('int_employment_periods') }}
),

team_history as (
    select * from {{ ref('int_employee_team_history') }}
),

horizons as (
    select * from {{ ref('int_source_horizons') }}
),

event_months as (
    select
        pulse_answers.month as event_month,
        true as is_survey
    from pulse_answers
    union all
    select
        cast({{ dbt.date_trunc('month', 'employment_periods.hire_date') }} as date) as event_month,
        false as is_survey
    from employment_periods
    union all
    select
        cast({{ dbt.date_trunc('month', 'employment_periods.termination_date') }} as date) as event_month,
        false as is_survey
    from employment_periods
    where employment_periods.termination_date is not null
    union all
    select
        cast({{ dbt.date_trunc('month', 'team_history.valid_from') }} as date) as event_month,
        false as is_survey
    from team_history
),

bounds as (
    select
        {%- if var('ex_first_month', none) %}
        cast('{{ var("ex_first_month") }}' as date) as first_month,
        {%- else %}
            coalesce(
                min(case when is_survey then event_month end), min(event_month)
            ) as first_month,
        {%- endif %}
        max(event_month) as last_month
    from event_months
),

months as (
    {{ month_spine('bounds') }}
),

month_ends as (
    select
        month,
        cast({{ dbt.last_day('month', 'month') }} as date) as month_end_date,
        next_month
    from months
)

select
    month_ends.month,
    month_ends.month_end_date,
    coalesce(
        horizons.bamboohr_decided_through_date >= month_ends.month_end_date
        and horizons.qualtrics_loaded_through_date >= month_ends.next_month,
        false
    ) as is_complete_month
from month_ends
cross join horizons
