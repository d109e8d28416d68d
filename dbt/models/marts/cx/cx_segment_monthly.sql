{#- One row per UTC calendar month and HubSpot segment (current segment of the company):
    monthly churn, trailing-12-month annual churn and customer lifetime value.
    annual_churn_rate = churned in the trailing 12 months (m - 11 .. m) / customers at the
    start of that window (day 1 of m - 11); expected lifetime = 1 / annual churn rate;
    CLV = average annual contract value (customers at the start of m) x expected lifetime.
    Trailing figures are null until 12 complete months exist; CLV is null when the annual
    churn rate is 0 or null. Months run to the month the CRM data has reached; a status is
    published only once the CRM data has passed its day (int_source_horizons, the same
    rule as cx_metrics_monthly): `is_complete_month` says the month's end state is final. -#}
with

customer_months as (
    select * from {{ ref('int_customer_months') }}
),

horizons as (
    select * from {{ ref('int_source_horizons') }}
),

segments as (
    select distinct segment from customer_months
),

month_range as (
    select
        min(customer_months.month) as first_month,
        max(
            cast({{ dbt.date_trunc('month', 'horizons.hubspot_loaded_through_date') }} as date)
        ) as last_month,
        max(horizons.hubspot_decided_through_date) as decided_through_date
    from customer_months
    cross join horizons
),

months as (
    {{ month_spine('month_range') }}
),

segment_counts as (
    select
        month,
        segment,
        sum(case when is_customer_start then 1 else 0 end) as customers_start,
        sum(case when is_churned then 1 else 0 end) as customers_churned,
        avg(case when is_customer_start then annual_contract_value_start end)
            as average_annual_contract_value
    from customer_months
    group by month, segment
),

-- a complete month x segment grid, so the trailing windows count months, not rows
grid as (
    select
        months.month,
        segments.segment,
        coalesce(
            months.decided_through_date >= months.next_month, false
        ) as is_complete_month,
        -- day 1 of the month is decided once the CRM data has passed it, the end state
        -- once it has passed day 1 of the next month
        case
            when months.decided_through_date >= months.month
                then coalesce(segment_counts.customers_start, 0)
        end as customers_start,
        case
            when months.decided_through_date >= months.next_month
                then coalesce(segment_counts.customers_churned, 0)
        end as customers_churned,
        case
            when months.decided_through_date >= months.month
                then segment_counts.average_annual_contract_value
        end as average_annual_contract_value
    from months
    cross join segments
    left join segment_counts
        on
            months.month = segment_counts.month
            and segments.segment = segment_counts.segment
),

trailing_windows as (
    select
        month,
        segment,
        is_complete_month,
        customers_start,
        customers_churned,
        average_annual_contract_value,
        lag(customers_start, 11) over (partition by segment order by month)
            as window_customers_start,
        sum(customers_churned) over (
            partition by segment order by month rows between 11 preceding and current row
        ) as window_churned,
        count(customers_churned) over (
            partition by segment order by month rows between 11 preceding and current row
        ) as window_known_months
    from grid
),

rates as (
    select
        month,
        segment,
        is_complete_month,
        customers_start,
        customers_churned,
        1.0 * customers_churned / nullif(customers_start, 0) as churn_rate,
        case when window_known_months = 12 then window_customers_start end
            as trailing_12m_customers_start,
        case when window_known_months = 12 then window_churned end as trailing_12m_churned,
        case
            when window_known_months = 12
                then 1.0 * window_churned / nullif(window_customers_start, 0)
        end as annual_churn_rate,
        average_annual_contract_value
    from trailing_windows
),

final as (
    select
        month,
        cast(segment as {{ dbt.type_string() }}) as segment,
        is_complete_month,
        cast(customers_start as {{ dbt.type_bigint() }}) as customers_start,
        cast(customers_churned as {{ dbt.type_bigint() }}) as customers_churned,
        cast(churn_rate as {{ ex_type_double() }}) as churn_rate,
        cast(trailing_12m_customers_start as {{ dbt.type_bigint() }}) as trailing_12m_customers_start,
        cast(trailing_12m_churned as {{ dbt.type_bigint() }}) as trailing_12m_churned,
        cast(annual_churn_rate as {{ ex_type_double() }}) as annual_churn_rate,
        cast(average_annual_contract_value as {{ ex_type_double() }}) as average_annual_contract_value,
        cast(1.0 / nullif(annual_churn_rate, 0) as {{ ex_type_double() }}) as expected_lifetime_years,
        cast(average_annual_contract_value / nullif(annual_churn_rate, 0) as {{ ex_type_double() }})
            as clv
    from rates
)

select * from final
