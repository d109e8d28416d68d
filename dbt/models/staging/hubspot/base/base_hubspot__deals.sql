{#- Every raw deal row, parsed, with `_quarantine_reason` (null = usable) and `_dedup_rank`
    (1 = the version kept). A stage the `hubspot_deal_stages` seed does not know (e.g. the
    retired "closedwon_legacy") is quarantined: whether it is closed or won is unknown, and
    guessing would change who counts as a customer. -#}
{%- set deals = source('raw_hubspot', 'deals') -%}
with

source as (
    select * from {{ deals }}
),

deal_stages as (
    select * from {{ ref('hubspot_deal_stages') }}
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
        deal_stages.is_won
    from renamed
    left join deal_stages
        on renamed.deal_stage = deal_stages.deal_stage
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
