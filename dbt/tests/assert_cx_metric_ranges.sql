-- A failing row is a month of cx_metrics_monthly with a metric outside its possible range:
-- a numerator above its denominator, NPS outside -100..100, CSAT outside 0..100, CES
-- outside 1..7, a rate outside 0..1, a negative median time, or a median in business
-- minutes above the median in calendar minutes (true of every ticket, so of the medians).
{{ config(severity='error') }}

select
    month,
    nps,
    csat,
    ces,
    resolution_rate,
    one_touch_rate,
    reopen_rate,
    churn_rate,
    retention_rate,
    first_reply_median_calendar_minutes,
    first_reply_median_business_minutes,
    full_resolution_median_calendar_minutes,
    full_resolution_median_business_minutes
from {{ ref('cx_metrics_monthly') }}
where
    csat_satisfied > csat_responses
    or tickets_with_first_reply > tickets_created
    or tickets_created_now_solved > tickets_created
    or one_touch_tickets > solved_tickets
    or reopened_tickets > solved_tickets
    or customers_churned > customers_start
    or nps < -100 or nps > 100
    or csat < 0 or csat > 100
    or ces < 1 or ces > 7
    or resolution_rate < 0 or resolution_rate > 1
    or one_touch_rate < 0 or one_touch_rate > 1
    or reopen_rate < 0 or reopen_rate > 1
    or churn_rate < 0 or churn_rate > 1
    or retention_rate < 0 or retention_rate > 1
    or first_reply_median_calendar_minutes < 0
    or first_reply_median_business_minutes < 0
    or full_resolution_median_calendar_minutes < 0
    or full_resolution_median_business_minutes < 0
    or first_reply_median_business_minutes > first_reply_median_calendar_minutes + 1e-6
    or full_resolution_median_business_minutes > full_resolution_median_calendar_minutes + 1e-6
