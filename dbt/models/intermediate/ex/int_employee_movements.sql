{#- Every headcount movement as one row: `hire` (each employment period's start, rehires
    included), `separation` (each period's termination), and `transfer_out` / `transfer_in`
    (both sides of each transfer). Department and team are as of the movement's day (for a
    separation: the last day worked). `month` is the calendar month of `movement_date`. -#}
with

employment_periods as (
    select * from {{ ref('int_employment_periods') }}
),

transfers as (
    select * from {{ ref('int_employee_transfers') }}
),

assignments as (
    select * from {{ ref('int_employee_assignments') }}
),

period_events as (
    select
        employment_periods.employee_id,
        'hire' as movement_type,
        employment_periods.hire_date as movement_date,
        cast(null as {{ dbt.type_string() }}) as termination_type,
        cast(null as {{ dbt.type_boolean() }}) as is_regretted
    from employment_periods
    union all
    select
        employment_periods.employee_id,
        'separation' as movement_type,
        employment_periods.termination_date as movement_date,
        employment_periods.termination_type,
        employment_periods.is_regretted
    from employment_periods
    where employment_periods.termination_date is not null
),

placed_period_events as (
    select
        period_events.employee_id,
        period_events.movement_type,
        period_events.movement_date,
        coalesce(assignments.department, 'Unassigned') as department,
        assignments.team,
        period_events.termination_type,
        period_events.is_regretted,
        true as is_department_change,
        true as is_team_change
    from period_events
    left join assignments
        on
            period_events.employee_id = assignments.employee_id
            and (assignments.valid_from is null or period_events.movement_date >= assignments.valid_from)
            and (assignments.valid_to is null or period_events.movement_date < assignments.valid_to)
),

transfer_events as (
    select
        transfers.employee_id,
        'transfer_out' as movement_type,
        transfers.transfer_date as movement_date,
        transfers.from_department as department,
        transfers.from_team as team,
        cast(null as {{ dbt.type_string() }}) as termination_type,
        cast(null as {{ dbt.type_boolean() }}) as is_regretted,
        transfers.is_department_change,
        transfers.is_team_change
    from transfers
    union all
    select
        transfers.employee_id,
        'transfer_in' as movement_type,
        transfers.transfer_date as movement_date,
        transfers.to_department as department,
        transfers.to_team as team,
        cast(null as {{ dbt.type_string() }}) as termination_type,
        cast(null as {{ dbt.type_boolean() }}) as is_regretted,
        transfers.is_department_change,
        transfers.is_team_change
    from transfers
),

movements as (
    select * from placed_period_events
    union all
    select * from transfer_events
)

select
    employee_id,
    movement_type,
    movement_date,
    cast({{ dbt.date_trunc('month', 'movement_date') }} as date) as month,
    department,
    team,
    termination_type,
    is_regretted,
    is_department_change,
    is_team_change
from movements
