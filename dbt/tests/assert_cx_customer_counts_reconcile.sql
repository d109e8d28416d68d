-- A failing row is a month whose customer counts do not reconcile: customers_end must equal
-- customers_start + customers_new - customers_churned, and must equal the next month's
-- customers_start (both are the customers on day 1 of the next month).
with

months as (
    select
        month,
        customers_start,
        customers_end,
        customers_new,
        customers_churned,
        lead(customers_start) over (order by month) as next_month_customers_start
    from {{ ref('cx_metrics_monthly') }}
)

select *
from months
where
    customers_end <> customers_start + customers_new - customers_churned
    or (next_month_customers_start is not null and customers_end <> next_month_customers_start)
