{#- Every raw employmentStatus row, parsed, with `_quarantine_reason` (null = usable) and
    `_dedup_rank`. The `…Id` termination fields hold labels: "Resignation (Voluntary)" ->
    voluntary, "Termination (Involuntary)" -> involuntary, "Regrettable" -> is_regretted,
    "Yes"/"No" -> is_rehire_eligible. A status label we do not know (e.g. "Seasonal") is a
    company-defined employment status, not dirt: it is kept as sent and is not a termination. -#}
with

source as (
    select * from {{ source('raw_bamboohr', 'employment_status') }}
),

employees as (
    select employee_id from {{ ref('stg_bamboohr__employees') }}
),

renamed as (
    select
        ---------- ids
        nullif(trim(id), '') as employment_status_id,
        nullif(trim(employee_id), '') as employee_id,
        ---------- strings
        nullif(trim(employment_status), '') as employment_status,
        nullif(trim(termination_type_id), '') as termination_type_label,
        nullif(trim(termination_reason_id), '') as termination_reason,
        nullif(lower(trim(termination_regrettable_id)), '') as regrettable_label,
        nullif(lower(trim(termination_rehire_id)), '') as rehire_label,
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

labelled as (
    select
        *,
        coalesce(lower(employment_status) = 'terminated', false) as is_termination
    from renamed
),

mapped as (
    select
        *,
        case
            when not is_termination then null
            when lower(termination_type_label) like '%involuntary%' then 'involuntary'
            when lower(termination_type_label) like '%voluntary%' then 'voluntary'
        end as termination_type,
        case
            when not is_termination then null
            when regrettable_label in ('regrettable', 'yes') then true
            when regrettable_label in ('non-regrettable', 'not regrettable', 'no') then false
        end as is_regretted,
        case
            when not is_termination then null
            when rehire_label in ('yes', 'eligible') then true
            when rehire_label in ('no', 'not eligible', 'ineligible') then false
        end as is_rehire_eligible
    from labelled
),

validated as (
    select
        mapped.*,
        case
            when mapped.employment_status_id is null then 'missing primary key'
            when {{ is_unparseable('mapped.raw_effective_date', 'mapped.effective_date', ['', '0000-00-00']) }}
                then 'unparseable date'
            when {{ is_unparseable('mapped.raw_updated_at', 'mapped.updated_at') }}
                then 'unparseable timestamp'
            when mapped.effective_date is null then 'missing effective_date'
            when employees.employee_id is null then 'orphan reference: employee'
        end as _quarantine_reason
    from mapped
    left join employees
        on mapped.employee_id = employees.employee_id
),

ranked as (
    select
        *,
        {{ dedup_rank(['employment_status_id'], 'updated_at desc nulls last') }} as _dedup_rank,
        {{ source_key(['employment_status_id']) }} as _source_key
    from validated
)

select * from ranked
