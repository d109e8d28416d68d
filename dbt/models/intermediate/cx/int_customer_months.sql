-- One row per company and UTC month in which a won contract covers day 1 of the month or
-- of the next month. Status on a day follows the one rule of the cx_customer_status macro:
-- a contract covering the day makes the company a customer (known in advance); not being
-- covered is final only once the CRM data has wholly passed that day (a renewal may still
-- close on it), else the status is null (not decided yet). Churned in month m: customer on
-- day 1 of m and not on day 1 of m + 1; new: customer on day 1 of m + 1 but not on day 1 of
-- m (both null while the statuses they need are undecided, by SQL's three-valued logic).
-- Decided means by the CRM's own horizon (int_source_horizons), never by how fresh the help
-- desk or survey data is. Months run to the month the CRM data has reached.
with

contracts as (
    select * from {{ ref('int_customer_contracts') }}
),

companies as (
    select * from {{ ref('stg_hubspot__companies') }}
),

horizons as (
    select * from {{ ref('int_source_horizons') }}
),

month_range as (
    select
        first_contract.first_month,
        cast({{ dbt.date_trunc('month', 'horizons.hubspot_loaded_through_date') }} as date)
            as last_month,
        horizons.hubspot_decided_through_date as decided_through_date
    from (
        select
            cast({{ dbt.date_trunc('month', 'min(contract_start_date)') }} as date)
                as first_month
        from contracts
    ) as first_contract
    cross join horizons
),

months as (
    {{ month_spine('month_range') }}
),

coverage as (
    select
        months.month,
        months.next_month,
        months.decided_through_date,
        contracts.customer_id,
        max(case when {{ cx_contract_covers('months.month') }} then 1 else 0 end)
            as covers_month_start,
        max(case when {{ cx_contract_covers('months.next_month') }} then 1 else 0 end)
            as covers_next_month_start,
        sum(
            case
                when {{ cx_contract_covers('months.month') }}
                    then contracts.annual_contract_value
            end
        ) as annual_contract_value_start
    from months
    inner join contracts
        on
            months.next_month >= contracts.contract_start_date
            and months.month < contracts.contract_end_date
    group by
        months.month,
        months.next_month,
        months.decided_through_date,
        contracts.customer_id
),

flagged as (
    select
        coverage.month,
        coverage.customer_id,
        coalesce(companies.segment, 'Unknown') as segment,
        {{ cx_customer_status(
            'coverage.covers_month_start = 1', 'coverage.month', 'coverage.decided_through_date'
        ) }} as is_customer_start,
        {{ cx_customer_status(
            'coverage.covers_next_month_start = 1',
            'coverage.next_month',
            'coverage.decided_through_date'
        ) }} as is_customer_end,
        coverage.annual_contract_value_start
    from coverage
    left join companies
        on coverage.customer_id = companies.customer_id
    where coverage.covers_month_start = 1 or coverage.covers_next_month_start = 1
),

final as (
    select
        month,
        customer_id,
        segment,
        is_customer_start,
        is_customer_end,
        -- three-valued logic: null while a status it needs is undecided, unless the other
        -- one settles it (a customer on day 1 of m is never new in m)
        (is_customer_end and not is_customer_start) as is_new,
        (is_customer_start and not is_customer_end) as is_churned,
        annual_contract_value_start
    from flagged
)

select * from final
