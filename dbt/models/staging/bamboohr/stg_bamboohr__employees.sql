with

employees as (
    select * from {{ ref('base_bamboohr__employees') }}
    where _quarantine_reason is null and _dedup_rank = 1
),

final as (
    select
        ---------- ids
        employee_id,
        ---------- identity
        work_email,
        ---------- dates
        hire_date,
        original_hire_date,
        termination_date,
        ---------- attributes
        status,
        department,
        team,
        job_title,
        supervisor_name,
        ---------- timestamps
        updated_at
    from employees
)

select * from final
