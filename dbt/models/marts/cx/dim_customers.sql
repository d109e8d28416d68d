{#- One row per HubSpot company. Its status is the customer-status rule of the monthly
    marts (the cx_customer_status macro) applied to `status_date`, the last day the CRM data
    has wholly passed (int_source_horizons.hubspot_decided_through_date): a won contract
    covering that day makes the company active; a company not covered that day is not, and
    that is final, since the CRM data has passed the day. A renewal closing on the day a
    contract ends is therefore never published as a churn, and fresher help-desk or survey
    data cannot move the status date. -#}
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

horizons as (
    select * from {{ ref('int_source_horizons') }}
),

contract_summary as (
    select
        contracts.customer_id,
        min(contracts.contract_start_date) as customer_since_date,
        max(
            case when {{ cx_contract_covers('horizons.hubspot_decided_through_date') }} then 1 else 0 end
        ) as covers_status_date,
        -- the first day after the last contract that has begun by the status date (a
        -- signed contract that starts later does not make the company a customer yet)
        max(
            case
                when contracts.contract_start_date <= horizons.hubspot_decided_through_date
                    then contracts.contract_end_date
            end
        ) as last_contract_end_date
    from contracts
    cross join horizons
    group by contracts.customer_id
),

statuses as (
    select
        companies.customer_id,
        horizons.hubspot_decided_through_date as status_date,
        contract_summary.customer_since_date,
        contract_summary.last_contract_end_date,
        {{ cx_customer_status(
            'contract_summary.covers_status_date = 1',
            'horizons.hubspot_decided_through_date',
            'horizons.hubspot_decided_through_date'
        ) }} as is_customer
    from companies
    cross join horizons
    left join contract_summary
        on companies.customer_id = contract_summary.customer_id
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
        statuses.customer_since_date,
        case
            when not coalesce(statuses.is_customer, false) then statuses.last_contract_end_date
        end as churned_date,
        coalesce(statuses.is_customer, false) as is_active,
        statuses.status_date,
        cast(organizations.organization_id as {{ dbt.type_bigint() }})
            as zendesk_organization_id
    from companies
    left join statuses
        on companies.customer_id = statuses.customer_id
    left join organizations
        on companies.customer_id = organizations.customer_id
)

select * from final
