{#- Point-in-time job history from BambooHR's jobInfo table: one row per employee and
    effective date, valid from `valid_from` (inclusive) to `valid_to` (exclusive; null =
    still current). Two rows on one day: the later-entered row wins. To find someone's team
    on a day d: valid_from <= d and (valid_to is null or d < valid_to). `team` is BambooHR's
    division. The CX marts use this for the assignee's team when a ticket was solved. -#}
with

job_info as (
    select * from {{ ref('stg_bamboohr__job_info') }}
),

ranked as (
    select
        job_info.*,
        row_number() over (
            partition by job_info.employee_id, job_info.effective_date
            order by {{ dbt.length('job_info.job_info_id') }} desc, job_info.job_info_id desc
        ) as rank_in_day
    from job_info
    where job_info.effective_date is not null
),

history as (
    select
        employee_id,
        department,
        team,
        job_title,
        reports_to_name,
        effective_date as valid_from,
        lead(effective_date) over (
            partition by employee_id order by effective_date
        ) as valid_to
    from ranked
    where rank_in_day = 1
)

select * from history
