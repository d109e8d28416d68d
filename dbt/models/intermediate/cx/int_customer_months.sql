-- One row per company and UTC month in which it is a customer on day 1 of the month or of
-- the next month. A company is a customer on day d if a closed-won contract covers d
-- ([contract_start_date, contract_end_date)). Churned in month m: customer on day 1 of m and
-- not on day 1 of m + 1; new: customer on day 1 of m + 1 but not on day 1 of m.
-- Not being a customer on day 1 of m + 1 is final only once the data has passed that day
-- (a renewal may still close on it): until then that customer's end state (is_customer_end,
-- is_new, is_churned) is null rather than a premature churn.
with

contracts as (
    select * from {{ ref('int_customer_contracts') }}
),

companies as (
    select * from {{ ref('stg_hubspot__companies') }}
),

data_as_of as (
    select * from {{ ref('int_cx_data_as_of') }}
),

month_range as (
    select
        first_contract.first_month,
        {{ cx_utc_month('data_as_of.as_of_at') }} as last_month,
        data_as_of.as_of_date
    from (
        select
            cast({{ dbt.date_trunc('month', 'min(contract_start_date)') }} as date)
                as first_month
        from contracts
    ) as first_contract
    cross join data_as_of
),

months as (
    {{ month_spine('month_range') }}
),

coverage as (
    select
        months.month,
        months.next_month,
        months.as_of_date,
        contracts.customer_id,
        max(
            case
                when
                    contracts.contract_start_date <= months.month
                    and months.month < contracts.contract_end_date
                    then 1
                else 0
            end
        ) as covers_month_start,
        max(
            case
                when
                    contracts.contract_start_date <= months.next_month
                    and months.next_month < contracts.contract_end_date
                    then 1
                else 0
            end
        ) as covers_next_month_start,
        sum(
            case
                when
                    contracts.contract_start_date <= months.month
                    and months.month < contracts.contract_end_date
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
        months.as_of_date,
        contracts.customer_id
),

flagged as (
    select
        coverage.month,
        coverage.customer_id,
        coalesce(companies.segment, 'Unknown') as segment,
        coverage.covers_month_start = 1 as is_customer_start,
        -- a won contract covering day 1 of m + 1 is known in advance; its absence is final
        -- only once the data has passed that day (a renewal may still close on it)
        case
            when coverage.covers_next_month_start = 1 then true
            when coverage.as_of_date > coverage.next_month then false
        end as is_customer_end,
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
        case
            when is_customer_start then false
            when is_customer_end is not null then is_customer_end
        end as is_new,
        case
            when not is_customer_start then false
            when is_customer_end is not null then not is_customer_end
        end as is_churned,
        annual_contract_value_start
    from flagged
)

select * from final
