{#- Every raw deal row, parsed, with `_quarantine_reason` (null = usable) and `_dedup_rank`
    (1 = the version kept). The stage HubSpot sends gets its meaning from the
    `hubspot_deal_stages` seed, known aliases included (the retired "closedwon_legacy" id
    is closed won); a stage the
    seed does not know is quarantined: whether it is closed or won is unknown, and guessing
    would change who counts as a customer. A won deal is a contract, so it is quarantined
    when it cannot be one: without a valid contract period, or without an association to a
    staged company (its customer is unknown). `_has_company_association` says whether such
    an association exists (the deal <-> company identity link). -#}
{%- set deals = source('raw_hubspot', 'deals') -%}
with

source as (
    select * from {{ deals }}
),

deal_stages as (
    select * from {{ ref('hubspot_deal_stages') }}
),

-- deals with at least one usable company association: a key on both sides and a company
-- that is staged (the checks base_hubspot__deal_companies applies to the association)
associated_deals as (
    select distinct nullif(trim(associations.deal_id), '') as deal_id
    from {{ source('raw_hubspot', 'deal_companies') }} as associations
    inner join {{ ref('stg_hubspot__companies') }} as companies
        on cast(associations.company_id as {{ sql_type('varchar') }}) = companies.customer_id
    where nullif(trim(associations.deal_id), '') is not null
),

renamed as (
    select
        ---------- ids
        nullif(trim(id), '') as deal_id,
        ---------- strings
        nullif(trim(properties__dealname), '') as deal_name,
        nullif(lower(trim(properties__dealstage)), '') as deal_stage,
        ---------- numerics
        {{ parse_number(column_or_null(deals, 'properties__amount', 'varchar')) }} as amount,
        ---------- dates
        {{ parse_vendor_date(column_or_null(deals, 'properties__contract_start_date', 'varchar')) }}
            as contract_start_date,
        {{ parse_vendor_date(column_or_null(deals, 'properties__contract_end_date', 'varchar')) }}
            as contract_end_date,
        ---------- timestamps
        {{ parse_timestamp_utc(column_or_null(deals, 'properties__closedate', 'varchar')) }} as close_at,
        {{ parse_timestamp_utc('coalesce(properties__createdate, created_at)') }} as created_at,
        {{ parse_timestamp_utc('coalesce(properties__hs_lastmodifieddate, updated_at)') }} as updated_at,
        ---------- raw values, for validation
        {{ column_or_null(deals, 'properties__amount', 'varchar') }} as raw_amount,
        {{ column_or_null(deals, 'properties__contract_start_date', 'varchar') }} as raw_contract_start_date,
        {{ column_or_null(deals, 'properties__contract_end_date', 'varchar') }} as raw_contract_end_date,
        {{ column_or_null(deals, 'properties__closedate', 'varchar') }} as raw_close_at,
        coalesce(properties__createdate, created_at) as raw_created_at,
        coalesce(properties__hs_lastmodifieddate, updated_at) as raw_updated_at,
        ---------- metadata
        _dlt_load_id,
        _dlt_id
    from source
),

staged as (
    select
        renamed.*,
        deal_stages.is_closed,
        deal_stages.is_won,
        associated_deals.deal_id is not null as _has_company_association
    from renamed
    left join deal_stages
        on renamed.deal_stage = deal_stages.deal_stage
    left join associated_deals
        on renamed.deal_id = associated_deals.deal_id
),

validated as (
    select
        *,
        case
            when deal_id is null then 'missing primary key'
            when
                {{ is_unparseable('raw_close_at', 'close_at') }}
                or {{ is_unparseable('raw_created_at', 'created_at') }}
                or {{ is_unparseable('raw_updated_at', 'updated_at') }}
                then 'unparseable timestamp'
            when
                {{ is_unparseable('raw_contract_start_date', 'contract_start_date') }}
                or {{ is_unparseable('raw_contract_end_date', 'contract_end_date') }}
                then 'unparseable date'
            when {{ is_unparseable('raw_amount', 'amount') }} then 'unparseable amount'
            when is_closed is null then 'unknown deal stage'
            when
                is_won
                and (
                    contract_start_date is null
                    or contract_end_date is null
                    or contract_end_date <= contract_start_date
                )
                then 'won deal without a valid contract period'
            when is_won and not _has_company_association
                then 'won deal without company association'
        end as _quarantine_reason
    from staged
),

ranked as (
    select
        *,
        {{ dedup_rank(['deal_id'], 'updated_at desc nulls last') }} as _dedup_rank,
        {{ source_key(['deal_id']) }} as _source_key
    from validated
)

select * from ranked
