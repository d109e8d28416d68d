{#- One row per transfer: a change of department or team between two consecutive job
    rows of an employee who is employed both the day before and on the day of the change
    (same employment period). A job row dated on a (re)hire date describes the hire and is
    not a transfer; a title- or manager-only change is not a transfer. -#}
with

team_history as (
    select * from {{ ref('int_employee_team_history') }}
),

employment_periods as (
    select * from {{ ref('int_employment_periods') }}
),

consecutive_rows as (
    select
        employee_id,
        valid_from as transfer_date,
        lag(valid_from) over (partition by employee_id order by valid_from) as previous_valid_from,
        lag(department) over (partition by employee_id order by valid_from) as from_department,
        lag(team) over (partition by employee_id order by valid_from) as from_team,
        department as to_department,
        team as to_team
    from team_history
),

compared_rows as (
    select
        *,
        not coalesce(
            from_department = to_department or (from_department is null and to_department is null),
            false
        ) as is_department_change,
        not coalesce(
            from_team = to_team or (from_team is null and to_team is null),
            false
        ) as is_team_change
    from consecutive_rows
    where previous_valid_from is not null
),

changes as (
    select *
    from compared_rows
    where is_department_change or is_team_change
),

transfers_while_employed as (
    select
        changes.employee_id,
        changes.transfer_date,
        cast({{ dbt.date_trunc('month', 'changes.transfer_date') }} as date) as month,
        coalesce(changes.from_department, 'Unassigned') as from_department,
        changes.from_team,
        coalesce(changes.to_department, 'Unassigned') as to_department,
        changes.to_team,
        changes.is_department_change,
        changes.is_team_change
    from changes
    inner join employment_periods
        on
            changes.employee_id = employment_periods.employee_id
            and changes.transfer_date > employment_periods.hire_date
            and (
                employment_periods.termination_date is null
                or changes.transfer_date <= employment_periods.termination_date
            )
)

select * from transfers_while_employed
