-- A failing row is a month and segment of cx_segment_monthly with a figure outside its
-- possible range: churned customers above the customers at the start (of the month, or of
-- the trailing 12-month window), a churn rate outside 0..1, or a negative contract value,
-- expected lifetime or CLV.
{{ config(severity='error') }}

select
    month,
    segment,
    customers_start,
    customers_churned,
    churn_rate,
    trailing_12m_customers_start,
    trailing_12m_churned,
    annual_churn_rate,
    average_annual_contract_value,
    expected_lifetime_years,
    clv
from {{ ref('cx_segment_monthly') }}
where
    customers_churned > customers_start
    or trailing_12m_churned > trailing_12m_customers_start
    or churn_rate < 0 or churn_rate > 1
    or annual_churn_rate < 0 or annual_churn_rate > 1
    or average_annual_contract_value < 0
    or expected_lifetime_years < 0
    or clv < 0
