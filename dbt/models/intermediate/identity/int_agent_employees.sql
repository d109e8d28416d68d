{#- Every Zendesk agent (role agent or admin) with the BambooHR employee whose work email
    is the agent's email (both lower-cased and trimmed). `employee_id` is null when no
    employee, or more than one, has that email; `unmatched_reason` says which. The CX
    marts join tickets' assignee_id to agent_user_id here. -#}
with

users as (
    select * from {{ ref('stg_zendesk__users') }}
),

employees as (
    select * from {{ ref('stg_bamboohr__employees') }}
),

agents as (
    select
        users.user_id as agent_user_id,
        users.is_active as is_agent_active,
        users.created_at as agent_created_at,
        lower(trim(users.email)) as email
    from users
    where users.role in ('agent', 'admin')
),

employee_emails as (
    select
        lower(trim(employees.work_email)) as work_email,
        count(distinct employees.employee_id) as count_employees,
        min(employees.employee_id) as employee_id
    from employees
    where employees.work_email is not null
    group by lower(trim(employees.work_email))
)

select
    agents.agent_user_id,
    case when employee_emails.count_employees = 1 then employee_emails.employee_id end as employee_id,
    agents.is_agent_active,
    agents.agent_created_at,
    coalesce(employee_emails.count_employees = 1, false) as is_matched,
    case
        when agents.email is null or agents.email = '' then 'agent has no email'
        when employee_emails.count_employees is null then 'no BambooHR employee has this work email'
        when employee_emails.count_employees > 1
            then
                'work email shared by '
                || cast(employee_emails.count_employees as {{ dbt.type_string() }})
                || ' employees'
    end as unmatched_reason
from agents
left join employee_emails
    on agents.email = employee_emails.work_email
