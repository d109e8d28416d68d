{#- Every raw organization row with its first domain name (normalised),
    `_quarantine_reason` (null = usable) and `_dedup_rank`. The time-based export repeats
    its boundary second on the next page; such copies rank below the first. -#}
with

source as (
    select * from {{ source('raw_zendesk', 'organizations') }}
),

domain_names as (
    select
        _dlt_parent_id,
        value as domain_name,
        row_number() over (partition by _dlt_parent_id order by _dlt_list_idx) as domain_rank
    from {{ source('raw_zendesk', 'organizations__domain_names') }}
    where nullif(trim(value), '') is not null
),

renamed as (
    select
        ---------- ids
        source.id as organization_id,
        ---------- strings
        nullif(trim(source.name), '') as organization_name,
        {{ normalize_domain('domain_names.domain_name') }} as domain,
        ---------- timestamps
        cast(source.created_at as {{ type_timestamp_tz() }}) as created_at,
        cast(source.updated_at as {{ type_timestamp_tz() }}) as updated_at,
        ---------- metadata
        source._dlt_load_id,
        source._dlt_id
    from source
    left join domain_names
        on
            source._dlt_id = domain_names._dlt_parent_id
            and domain_names.domain_rank = 1
),

validated as (
    select
        *,
        case
            when organization_id is null then 'missing primary key'
        end as _quarantine_reason
    from renamed
),

ranked as (
    select
        *,
        {{ dedup_rank(['organization_id'], 'updated_at desc nulls last') }} as _dedup_rank,
        {{ source_key(['organization_id']) }} as _source_key
    from validated
)

select * from ranked
