{#- One row per HubSpot company. A company is a customer on a day a closed-won contract
    covers; `is_active` is that test on the data's as-of date. -#}
with

companies as (
    select * from {{ ref('stg_hubspot__companies') }}
),

contracts as (
    select * from {{ ref('int_customer_contracts') }}
),

customer_organizations as (
    select * from {{ ref('int_customer_organizations') }}
),

data_as_of as (
    select * from {{ ref('int_cx_data_as_of') }}
),

contract_summary as (
    select
        contracts.customer_id,
        min(contracts.contract_start_date) as customer_since_date,
        max(
            case
                when
                    contracts.contract_start_date <= data_as_of.as_of_date
                    and data_as_of.as_of_date < contracts.contract_end_date
                    then 1
                else 0
            end
        ) = 1 as is_active,
        -- the first day after the last contract that has begun (a signed contract that
        -- starts later does not make the company a customer yet)
        max(
            case
                when contracts.contract_start_date <= data_as_of.as_of_date
                    then contracts.contract_end_date
            end
        ) as last_contract_end_date
    from contracts
    cross join data_as_of
    group by contracts.customer_id
),

-- a company with several Zendesk organizations on its domain: the lowest id
organizations as (
    select
        customer_id,
        min(organization_id) as organization_id
    from customer_organizations
    where customer_id is not null
    group by customer_id
),

final as (
    select
        cast(companies.customer_id as {{ dbt.type_string() }}) as customer_id,
        cast(companies.customer_name as {{ dbt.type_string() }}) as customer_name,
        cast(companies.domain as {{ dbt.type_string() }}) as domain,
        cast(companies.industry as {{ dbt.type_string() }}) as industry,
        cast(companies.segment as {{ dbt.type_string() }}) as segment,
        cast(companies.country as {{ dbt.type_string() }}) as country,
        contract_summary.customer_since_date,
        case
            when not contract_summary.is_active then contract_summary.last_contract_end_date
        end as churned_date,
        coalesce(contract_summary.is_active, false) as is_active,
        cast(organizations.organization_id as {{ dbt.type_bigint() }})
            as zendesk_organization_id
    from companies
    left join contract_summary
        on companies.customer_id = contract_summary.customer_id
    left join organizations
        on companies.customer_id = organizations.customer_id
)

select * from final
