-- One row per closed-won deal and associated company: the contract period
-- [contract_start_date, contract_end_date) during which the company is a customer, and its
-- annualised value. A won deal without a staged company association or without a valid
-- period (missing dates, end not after start) cannot make anyone a customer: staging
-- quarantines it with that reason (int_won_deals and data_health count them), so every
-- staged won deal is a contract here; the filters below only restate the contract.
with

deals as (
    select * from {{ ref('stg_hubspot__deals') }}
),

deal_companies as (
    select * from {{ ref('stg_hubspot__deal_companies') }}
),

won_contracts as (
    select
        deals.deal_id,
        deal_companies.customer_id,
        deals.contract_start_date,
        deals.contract_end_date,
        deals.amount,
        deals.updated_at,
        {{ dbt.datediff('deals.contract_start_date', 'deals.contract_end_date', 'month') }}
            as contract_months
    from deals
    inner join deal_companies
        on deals.deal_id = deal_companies.deal_id
    where
        deals.is_won
        and deals.contract_start_date is not null
        and deals.contract_end_date > deals.contract_start_date
),

final as (
    select
        deal_id,
        customer_id,
        contract_start_date,
        contract_end_date,
        amount,
        contract_months,
        -- the amount per 12 months of contract (calendar months, so leap days don't matter)
        case
            when contract_months > 0 then amount * 12.0 / contract_months
        end as annual_contract_value,
        updated_at
    from won_contracts
)

select * from final
