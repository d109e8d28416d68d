{#- Every raw contact row, parsed, with `_quarantine_reason` (null = usable) and
    `_dedup_rank` (1 = the version kept). A contact without a company is usable. -#}
{%- set contacts = source('raw_hubspot', 'contacts') -%}
with

source as (
    select * from {{ contacts }}
),

renamed as (
    select
        ---------- ids
        nullif(trim(id), '') as contact_id,
        nullif(trim({{ column_or_null(contacts, 'properties__associatedcompanyid', 'varchar') }}), '') as customer_id,
        ---------- strings
        {{ normalize_email(column_or_null(contacts, 'properties__email', 'varchar')) }} as email,
        nullif(trim({{ column_or_null(contacts, 'properties__firstname', 'varchar') }}), '') as first_name,
        nullif(trim({{ column_or_null(contacts, 'properties__lastname', 'varchar') }}), '') as last_name,
        ---------- timestamps
        {{ parse_timestamp_utc('coalesce(properties__createdate, created_at)') }} as created_at,
        {{ parse_timestamp_utc('coalesce(properties__lastmodifieddate, updated_at)') }} as updated_at,
        ---------- raw values, for validation
        coalesce(properties__createdate, created_at) as raw_created_at,
        coalesce(properties__lastmodifieddate, updated_at) as raw_updated_at,
        ---------- metadata
        _dlt_load_id,
        _dlt_id
    from source
),

validated as (
    select
        *,
        case
            when contact_id is null then 'missing primary key'
            when
                {{ is_unparseable('raw_created_at', 'created_at') }}
                or {{ is_unparseable('raw_updated_at', 'updated_at') }}
                then 'unparseable timestamp'
        end as _quarantine_reason
    from renamed
),

ranked as (
    select
        *,
        {{ dedup_rank(['contact_id'], 'updated_at desc nulls last') }} as _dedup_rank,
        {{ source_key(['contact_id']) }} as _source_key
    from validated
)

select * from ranked
