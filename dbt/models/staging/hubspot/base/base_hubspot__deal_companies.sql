{#- Every raw deal-company association, with `_quarantine_reason` (null = usable) and
    `_dedup_rank`. An association whose deal or company is not staged (quarantined, or not
    loaded yet) is an orphan: it is quarantined until its parent is staged. -#}
with

source as (
    select * from {{ source('raw_hubspot', 'deal_companies') }}
),

deals as (
    select deal_id from {{ ref('stg_hubspot__deals') }}
),

companies as (
    select customer_id from {{ ref('stg_hubspot__companies') }}
),

renamed as (
    select
        ---------- ids
        nullif(trim(deal_id), '') as deal_id,
        cast(company_id as {{ dbt.type_string() }}) as customer_id,
        ---------- metadata
        _dlt_load_id,
        _dlt_id
    from source
),

validated as (
    select
        renamed.*,
        case
            when renamed.deal_id is null or renamed.customer_id is null then 'missing primary key'
            when deals.deal_id is null then 'orphan reference: deal'
            when companies.customer_id is null then 'orphan reference: company'
        end as _quarantine_reason
    from renamed
    left join deals
        on renamed.deal_id = deals.deal_id
    left join companies
        on renamed.customer_id = companies.customer_id
),

ranked as (
    select
        *,
        {{ dedup_rank(['deal_id', 'customer_id']) }} as _dedup_rank,
        {{ source_key(['deal_id', 'customer_id']) }} as _source_key
    from validated
)

select * from ranked
