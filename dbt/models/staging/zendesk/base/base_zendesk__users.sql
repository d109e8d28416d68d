{#- Every raw user row with `_quarantine_reason` (null = usable) and `_dedup_rank`.
    Deactivated agents (employees who left) are kept with is_active = false. -#}
{%- set users = source('raw_zendesk', 'users') -%}
with

source as (
    select * from {{ users }}
),

renamed as (
    select
        ---------- ids
        id as user_id,
        {{ column_or_null(users, 'organization_id', 'bigint') }} as organization_id,
        {{ column_or_null(users, 'default_group_id', 'bigint') }} as default_group_id,
        ---------- strings
        nullif(trim(name), '') as user_name,
        {{ normalize_email('email') }} as email,
        nullif(lower(trim(role)), '') as role,
        ---------- booleans
        active as is_active,
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
            when user_id is null then 'missing primary key'
        end as _quarantine_reason
    from renamed
),

ranked as (
    select
        *,
        {{ dedup_rank(['user_id'], 'updated_at desc nulls last') }} as _dedup_rank,
        {{ source_key(['user_id']) }} as _source_key
    from validated
)

select * from ranked
