{#- Department and team for any day of an employee's employment, as ranges: the job
    history, with the first job row also covering the days before it (a job row entered a
    few days after the hire date still places the hire), and the directory's department
    and team for an employee with no job rows at all. `valid_from` null = since ever,
    `valid_to` (exclusive) null = still current. Headcount, hires, separations and
    transfers all take department and team from here. -#}
with

team_history as (
    select * from {{ ref('int_employee_team_history') }}
),

employees as (
    select * from {{ ref('stg_bamboohr__employees') }}
),

backfilled_history as (
    select
        employee_id,
        coalesce(department, 'Unassigned') as department,
        team,
        case
            when row_number() over (partition by employee_id order by valid_from) = 1
                then cast(null as date)
            else valid_from
        end as valid_from,
        valid_to
    from team_history
),

directory_assignments as (
    select
        employees.employee_id,
        coalesce(employees.department, 'Unassigned') as department,
        employees.team,
        cast(null as date) as valid_from,
        cast(null as date) as valid_to
    from employees
    where employees.employee_id not in (
        select team_history.employee_id from team_history
    )
)

select * from backfilled_history
union all
select * from directory_assignments
