{#- Who is on the headcount on the first and the last day of each reported month, and in
    which department and team that day. Active on day d = hire_date <= d <= termination_date
    in some employment period (the termination date is the last day worked). One row per
    month, snapshot and employee: a person in two overlapping periods counts once. -#}
with

months as (
    select * from {{ ref('int_ex_months') }}
),

employment_periods as (
    select * from {{ ref('int_employment_periods') }}
),

assignments as (
    select * from {{ ref('int_employee_assignments') }}
),

snapshot_days as (
    select
        months.month,
        'first_day' as snapshot,
        months.month as snapshot_date
    from months
    union all
    select
        months.month,
        'last_day' as snapshot,
        months.month_end_date as snapshot_date
    from months
),

active_employees as (
    select distinct
        snapshot_days.month,
        snapshot_days.snapshot,
        snapshot_days.snapshot_date,
        employment_periods.employee_id
    from snapshot_days
    inner join employment_periods
        on
            snapshot_days.snapshot_date >= employment_periods.hire_date
            and (
                employment_periods.termination_date is null
                or snapshot_days.snapshot_date <= employment_periods.termination_date
            )
)

select
    active_employees.month,
    active_employees.snapshot,
    active_employees.snapshot_date,
    active_employees.employee_id,
    coalesce(assignments.department, 'Unassigned') as department,
    assignments.team
from active_employees
left join assignments
    on
        active_employees.employee_id = assignments.employee_id
        and (assignments.valid_from is null or active_employees.snapshot_date >= assignments.valid_from)
        and (assignments.valid_to is null or active_employees.snapshot_date < assignments.valid_to)
