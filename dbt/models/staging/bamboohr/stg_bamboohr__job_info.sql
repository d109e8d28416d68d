with

job_info as (
    select * from {{ ref('base_bamboohr__job_info') }}
    where _quarantine_reason is null and _dedup_rank = 1
),

final as (
    select
        ---------- ids
        job_info_id,
        employee_id,
        ---------- dates
        effective_date,
        ---------- strings
        department,
        team,
        job_title,
        reports_to_name
    from job_info
)

select * from final
