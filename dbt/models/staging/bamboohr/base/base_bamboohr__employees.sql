{#- Every raw employee row, parsed, with `_quarantine_reason` (null = usable) and
    `_dedup_rank` (1 = the version kept). BambooHR's empty dates ("0000-00-00" or "") are
    null; a date that is there but unreadable quarantines the row, as does a missing hire
    date (the employee's periods could not be placed). Names, birth date, pay and location
    are never selected. -#}
with

source as (
    select * from {{ source('raw_bamboohr', 'employees') }}
),

renamed as (
    select
        ---------- ids
        nullif(trim(id), '') as employee_id,
        ---------- strings
        {{ normalize_email('work_email') }} as work_email,
        nullif(lower(trim(status)), '') as status,
        nullif(trim(department), '') as department,
        nullif(trim(division), '') as team,
        nullif(trim(job_title), '') as job_title,
        nullif(trim(supervisor), '') as supervisor_name,
        ---------- dates
        {{ parse_vendor_date('hire_date') }} as hire_date,
        {{ parse_vendor_date('original_hire_date') }} as original_hire_date,
        {{ parse_vendor_date('termination_date') }} as termination_date,
        ---------- timestamps
        {{ parse_timestamp_utc('last_changed') }} as updated_at,
        ---------- raw values, for validation
        hire_date as raw_hire_date,
        original_hire_date as raw_original_hire_date,
        termination_date as raw_termination_date,
        last_changed as raw_updated_at,
        ---------- metadata
        _dlt_load_id,
        _dlt_id
    from source
),

validated as (
    select
        *,
        case
            when employee_id is null then 'missing primary key'
            when
                {{ is_unparseable('raw_hire_date', 'hire_date', ['', '0000-00-00']) }}
                or {{ is_unparseable('raw_original_hire_date', 'original_hire_date', ['', '0000-00-00']) }}
                or {{ is_unparseable('raw_termination_date', 'termination_date', ['', '0000-00-00']) }}
                then 'unparseable date'
            when {{ is_unparseable('raw_updated_at', 'updated_at') }} then 'unparseable timestamp'
            when hire_date is null then 'missing hire_date'
        end as _quarantine_reason
    from renamed
),

ranked as (
    select
        *,
        {{ dedup_rank(['employee_id'], 'updated_at desc nulls last') }} as _dedup_rank,
        {{ source_key(['employee_id']) }} as _source_key
    from validated
)

select * from ranked
