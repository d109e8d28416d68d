{#- Every raw jobInfo row (job history), parsed, with `_quarantine_reason` (null = usable)
    and `_dedup_rank`. A row needs an effective date and a staged employee. -#}
with

source as (
    select * from {{ source('raw_bamboohr', 'job_info') }}
),

employees as (
    select employee_id from {{ ref('stg_bamboohr__employees') }}
),

renamed as (
    select
        ---------- ids
        nullif(trim(id), '') as job_info_id,
        nullif(trim(employee_id), '') as employee_id,
        ---------- strings
        nullif(trim(department), '') as department,
        nullif(trim(division), '') as team,
        nullif(trim(job_title), '') as job_title,
        nullif(trim(reports_to), '') as reports_to_name,
        ---------- dates
        {{ parse_vendor_date('date') }} as effective_date,
        ---------- timestamps
        {{ parse_timestamp_utc('last_changed') }} as updated_at,
        ---------- raw values, for validation
        date as raw_effective_date,
        last_changed as raw_updated_at,
        ---------- metadata
        _dlt_load_id,
        _dlt_id
    from source
),

validated as (
    select
        renamed.*,
        case
            when renamed.job_info_id is null then 'missing primary key'
            when {{ is_unparseable('renamed.raw_effective_date', 'renamed.effective_date', ['', '0000-00-00']) }}
                then 'unparseable date'
            when {{ is_unparseable('renamed.raw_updated_at', 'renamed.updated_at') }}
                then 'unparseable timestamp'
            when renamed.effective_date is null then 'missing effective_date'
            when employees.employee_id is null then 'orphan reference: employee'
        end as _quarantine_reason
    from renamed
    left join employees
        on renamed.employee_id = employees.employee_id
),

ranked as (
    select
        *,
        {{ dedup_rank(['job_info_id'], 'updated_at desc nulls last') }} as _dedup_rank,
        {{ source_key(['job_info_id']) }} as _source_key
    from validated
)

select * from ranked
