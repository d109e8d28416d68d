{#- Name keys (ex_name_key) by which an employee can be recognised in a BambooHR "reports
    to" field, which holds a display name, not an id. Staging carries no employee names, so
    the keys come from the local part of the work email (first.last[.n]@ gives "first last")
    and from the employee's Zendesk agent name where one is linked. Used only to resolve
    manager_id in dim_employees, and only where a key names exactly one employee. -#}
with

employees as (
    select * from {{ ref('stg_bamboohr__employees') }}
),

agent_employees as (
    select * from {{ ref('int_agent_employees') }}
),

users as (
    select * from {{ ref('stg_zendesk__users') }}
),

email_keys as (
    select
        employees.employee_id,
        {{ ex_name_key(dbt.split_part('employees.work_email', "'@'", 1)) }} as name_key,
        'work_email' as key_source
    from employees
    where employees.work_email is not null
),

agent_name_keys as (
    select
        agent_employees.employee_id,
        {{ ex_name_key('users.user_name') }} as name_key,
        'helpdesk_agent_name' as key_source
    from agent_employees
    inner join users
        on agent_employees.agent_user_id = users.user_id
    where
        agent_employees.employee_id is not null
        and users.user_name is not null
),

keys as (
    select * from email_keys
    union
    select * from agent_name_keys
)

select distinct
    employee_id,
    name_key
from keys
where name_key is not null and name_key <> ''
