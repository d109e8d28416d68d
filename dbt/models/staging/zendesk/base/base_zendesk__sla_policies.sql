{#- Every raw SLA policy row with `_quarantine_reason` (null = usable) and `_dedup_rank`
    (latest updated_at). The filter stays one json value (`filter_json`). -#}
with

source as (
    select * from {{ source('raw_zendesk', 'sla_policies') }}
),

renamed as (
    select
        ---------- ids
        id as sla_policy_id,
        ---------- strings
        nullif(trim(title), '') as title,
        nullif(trim(description), '') as description,
        cast(filter as {{ dbt.type_string() }}) as filter_json,
        ---------- numerics
        cast(position as integer) as position,
        ---------- timestamps
        cast(created_at as {{ type_timestamp_tz() }}) as created_at,
        cast(updated_at as {{ type_timestamp_tz() }}) as updated_at,
        ---------- metadata
        _dlt_load_id,
        _dlt_id
    from source
),

validated as (
    select
        *,
        case
            when sla_policy_id is null then 'missing primary key'
            when title is null then 'missing title'
        end as _quarantine_reason
    from renamed
),

ranked as (
    select
        *,
        {{ dedup_rank(['sla_policy_id'], 'updated_at desc nulls last') }} as _dedup_rank,
        {{ source_key(['sla_policy_id']) }} as _source_key
    from validated
)

select * from ranked
