{#- One row per employee, current state. Department, team, title and manager from the
    latest job row (the directory where there is none); hire, termination and regret from
    the latest employment period; original hire from the directory (else the first
    period). No names, emails, birth dates, pay or other personal data. -#}
with

employees as (
    select * from {{ ref('stg_bamboohr__employees') }}
),

employment_periods as (
    select * from {{ ref('int_employment_periods') }}
),

team_history as (
    select * from {{ ref('int_employee_team_history') }}
),

agent_employees as (
    select * from {{ ref('int_agent_employees') }}
),

name_keys as (
    select * from {{ ref('int_employee_name_keys') }}
),

employee_ids as (
    select employees.employee_id from employees
    union
    select employment_periods.employee_id from employment_periods
),

ranked_periods as (
    select
        employment_periods.*,
        row_number() over (
            partition by employment_periods.employee_id
            order by employment_periods.hire_date desc, employment_periods.period_no desc
        ) as recency_rank,
        min(employment_periods.hire_date) over (
            partition by employment_periods.employee_id
        ) as first_hire_date
    from employment_periods
),

latest_periods as (
    select * from ranked_periods
    where recency_rank = 1
),

current_jobs as (
    select
        team_history.*,
        row_number() over (
            partition by team_history.employee_id order by team_history.valid_from desc
        ) as recency_rank
    from team_history
),

-- a name key resolves to a manager only when exactly one employee carries it
manager_names as (
    select
        name_keys.name_key,
        min(name_keys.employee_id) as manager_id
    from name_keys
    group by name_keys.name_key
    having count(distinct name_keys.employee_id) = 1
),

helpdesk_agents as (
    select
        agent_employees.employee_id,
        agent_employees.agent_user_id,
        row_number() over (
            partition by agent_employees.employee_id
            order by
                case when agent_employees.is_agent_active then 0 else 1 end,
                agent_employees.agent_user_id
        ) as preference_rank
    from agent_employees
    where agent_employees.employee_id is not null
),

current_state as (
    select
        employee_ids.employee_id,
        coalesce(current_jobs.department, employees.department) as department,
        coalesce(current_jobs.team, employees.team) as team,
        coalesce(current_jobs.job_title, employees.job_title) as job_title,
        coalesce(current_jobs.reports_to_name, employees.supervisor_name) as reports_to_name,
        coalesce(latest_periods.hire_date, employees.hire_date) as hire_date,
        coalesce(employees.original_hire_date, latest_periods.first_hire_date) as original_hire_date,
        latest_periods.termination_date,
        latest_periods.termination_type,
        latest_periods.is_regretted,
        latest_periods.employee_id is not null and latest_periods.termination_date is null as is_active
    from employee_ids
    left join employees
        on employee_ids.employee_id = employees.employee_id
    left join latest_periods
        on employee_ids.employee_id = latest_periods.employee_id
    left join current_jobs
        on
            employee_ids.employee_id = current_jobs.employee_id
            and current_jobs.recency_rank = 1
)

select
    cast(current_state.employee_id as {{ dbt.type_string() }}) as employee_id,
    cast(current_state.department as {{ dbt.type_string() }}) as department,
    cast(current_state.team as {{ dbt.type_string() }}) as team,
    cast(current_state.job_title as {{ dbt.type_string() }}) as job_title,
    cast(
        case
            when manager_names.manager_id <> current_state.employee_id then manager_names.manager_id
        end
        as {{ dbt.type_string() }}
    ) as manager_id,
    current_state.hire_date,
    current_state.original_hire_date,
    current_state.termination_date,
    cast(current_state.termination_type as {{ dbt.type_string() }}) as termination_type,
    current_state.is_regretted,
    current_state.is_active,
    cast(helpdesk_agents.agent_user_id as {{ dbt.type_bigint() }}) as helpdesk_agent_id
from current_state
left join manager_names
    on {{ ex_name_key('current_state.reports_to_name') }} = manager_names.name_key
left join helpdesk_agents
    on
        current_state.employee_id = helpdesk_agents.employee_id
        and helpdesk_agents.preference_rank = 1
