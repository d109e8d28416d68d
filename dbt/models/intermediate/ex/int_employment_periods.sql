{#- One row per employment period: a hire (or rehire) and the termination that ends it.
    BambooHR's employmentStatus table has one row per status change: any non-termination
    status (Full-Time, Part-Time, Contractor, an unknown value...) starts a period when the
    employee is not employed and continues it otherwise; a termination ends the open period
    (a termination with no open period is ignored). Employees with no usable status rows
    fall back to the directory's hire and termination dates, so nobody drops out. -#}
with

employment_status as (
    select * from {{ ref('stg_bamboohr__employment_status') }}
),

employees as (
    select * from {{ ref('stg_bamboohr__employees') }}
),

ordered_status as (
    select
        employment_status.employee_id,
        employment_status.employment_status_id,
        {{ dbt.length('employment_status.employment_status_id') }} as status_id_length,
        employment_status.effective_date,
        coalesce(employment_status.is_termination, false) as is_termination,
        employment_status.termination_type,
        employment_status.is_regretted,
        lag(coalesce(employment_status.is_termination, false)) over (
            partition by employment_status.employee_id
            order by
                employment_status.effective_date,
                {{ dbt.length('employment_status.employment_status_id') }},
                employment_status.employment_status_id
        ) as is_previous_termination
    from employment_status
    where employment_status.effective_date is not null
),

-- a period starts at a non-termination row that is the first row or follows a termination
flagged_status as (
    select
        *,
        case
            when not is_termination and coalesce(is_previous_termination, true) then 1
            else 0
        end as is_period_start
    from ordered_status
),

numbered_status as (
    select
        *,
        sum(is_period_start) over (
            partition by employee_id
            order by effective_date, status_id_length, employment_status_id
            rows between unbounded preceding and current row
        ) as period_no
    from flagged_status
),

-- the first termination row after a period's start ends it
period_terminations as (
    select
        employee_id,
        period_no,
        effective_date as termination_date,
        termination_type,
        is_regretted,
        row_number() over (
            partition by employee_id, period_no
            order by effective_date, status_id_length, employment_status_id
        ) as termination_rank
    from numbered_status
    where is_termination and period_no > 0
),

status_periods as (
    select
        period_starts.employee_id,
        period_starts.period_no,
        period_starts.effective_date as hire_date,
        period_terminations.termination_date,
        period_terminations.termination_type,
        period_terminations.is_regretted,
        'employment_status' as period_source
    from numbered_status as period_starts
    left join period_terminations
        on
            period_starts.employee_id = period_terminations.employee_id
            and period_starts.period_no = period_terminations.period_no
            and period_terminations.termination_rank = 1
    where period_starts.is_period_start = 1
),

directory_periods as (
    select
        employees.employee_id,
        1 as period_no,
        employees.hire_date,
        employees.termination_date,
        cast(null as {{ dbt.type_string() }}) as termination_type,
        cast(null as {{ dbt.type_boolean() }}) as is_regretted,
        'directory' as period_source
    from employees
    where
        employees.hire_date is not null
        and employees.employee_id not in (
            select status_periods.employee_id from status_periods
        )
),

unioned as (
    select * from status_periods
    union all
    select * from directory_periods
)

select
    employee_id,
    cast(period_no as {{ dbt.type_int() }}) as period_no,
    hire_date,
    termination_date,
    termination_type,
    is_regretted,
    period_no > 1 as is_rehire,
    period_source
from unioned
