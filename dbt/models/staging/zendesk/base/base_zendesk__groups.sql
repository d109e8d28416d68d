{#- Every raw group row with `_quarantine_reason` (null = usable) and `_dedup_rank`. -#}
with

source as (
    select * from {{ source('raw_zendesk', 'groups') }}
),

renamed as (
    select
        ---------- ids
        id as group_id,
        ---------- strings
        nullif(trim(name), '') as group_name,
        ---------- booleans
        coalesce(deleted, false) as is_deleted,
        ---------- timestamps
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
            when group_id is null then 'missing primary key'
        end as _quarantine_reason
    from renamed
),

ranked as (
    select
        *,
        {{ dedup_rank(['group_id'], 'updated_at desc nulls last') }} as _dedup_rank,
        {{ source_key(['group_id']) }} as _source_key
    from validated
)

select * from ranked
