-- One row per won HubSpot deal (its latest version; the stage mapped by the
-- hubspot_deal_stages seed, aliases included), whether or not it became a contract:
-- `is_contract` when staging accepted it (it is in int_customer_contracts), else the
-- quarantine reason that kept it out (no company association, no valid contract period,
-- an unreadable value). The data-health figures (contracts excluded and their revenue) and
-- the deal <-> company match rate read it. Reads the base model, as quarantine does, because
-- the excluded deals are by definition not in staging.
with

deals as (
    select * from {{ ref('base_hubspot__deals') }}
    where _dedup_rank = 1 and is_won
),

final as (
    select
        _source_key as deal_key,
        deal_id,
        amount,
        contract_start_date,
        contract_end_date,
        case
            when contract_end_date > contract_start_date
                then {{ dbt.datediff('contract_start_date', 'contract_end_date', 'month') }}
        end as contract_months,
        _has_company_association as has_company_association,
        _quarantine_reason is null as is_contract,
        _quarantine_reason as exclusion_reason,
        updated_at
    from deals
),

valued as (
    select
        *,
        -- as in int_customer_contracts: the amount per 12 months of contract
        case when contract_months > 0 then amount * 12.0 / contract_months end
            as annual_contract_value
    from final
)

select * from valued
