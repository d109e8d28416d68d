{#- Every raw company row, parsed, with the verdict staging and quarantine share:
    `_quarantine_reason` (null = usable) and `_dedup_rank` (1 = the version kept). -#}
{%- set companies = source('raw_hubspot', 'companies') -%}
with

source as (
    select * from {{ companies }}
),

renamed as (
    select
        ---------- ids
        nullif(trim(id), '') as customer_id,
        ---------- strings
        nullif(trim(properties__name), '') as customer_name,
        {{ normalize_domain(column_or_null(companies, 'properties__domain', 'varchar')) }} as domain,
        nullif(trim({{ column_or_null(companies, 'properties__industry', 'varchar') }}), '') as industry,
        nullif(trim({{ column_or_null(companies, 'properties__country', 'varchar') }}), '') as country,
        nullif(trim({{ column_or_null(companies, 'properties__xm_segment', 'varchar') }}), '') as segment,
        nullif(lower(trim(properties__lifecyclestage)), '') as lifecycle_stage,
        ---------- timestamps
        {{ parse_timestamp_utc('coalesce(properties__createdate, created_at)') }} as created_at,
        {{ parse_timestamp_utc('coalesce(properties__hs_lastmodifieddate, updated_at)') }} as updated_at,
        ---------- raw values, for validation
        coalesce(properties__createdate, created_at) as raw_created_at,
        coalesce(properties__hs_lastmodifieddate, updated_at) as raw_updated_at,
        ---------- metadata
        _dlt_load_id,
        _dlt_id
    from source
),

validated as (
    select
        *,
        case
            when customer_id is null then 'missing primary key'
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
        {{ dedup_rank(['customer_id'], 'updated_at desc nulls last') }} as _dedup_rank,
        {{ source_key(['customer_id']) }} as _source_key
    from validated
)

select * from ranked
