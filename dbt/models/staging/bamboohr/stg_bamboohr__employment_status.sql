with

employment_status as (
    select * from {{ ref('base_bamboohr__employment_status') }}
    where _quarantine_reason is null and _dedup_rank = 1
),

final as (
    select
        ---------- ids
        employment_status_id,
        employee_id,
        ---------- dates
        effective_date,
        ---------- status
        employment_status,
        is_termination,
        ---------- termination
        termination_type,
        termination_reason,
        is_regretted,
        is_rehire_eligible
    from employment_status
)

select * from final
