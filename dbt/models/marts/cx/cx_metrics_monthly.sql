{#- One row per UTC calendar month, from the first month with any CX data to the month of
    the data's as-of date. Every ratio ships with its numerator and denominator; a ratio is
    null when its denominator is 0. Definitions: _cx__docs.md and DECISIONS.md. -#}
with

tickets as (
    select * from {{ ref('fct_tickets') }}
),

survey_responses as (
    select * from {{ ref('fct_survey_responses') }}
),

customer_months as (
    select * from {{ ref('int_customer_months') }}
),

data_as_of as (
    select * from {{ ref('int_cx_data_as_of') }}
),

survey_answers as (
    select
        {{ cx_utc_month('recorded_at') }} as month,
        survey_kind,
        score
    from survey_responses
),

ticket_months as (
    select
        {{ cx_utc_month('created_at') }} as created_month,
        {{ cx_utc_month('last_solved_at') }} as solved_month,
        tickets.*
    from tickets
),

nps as (
    select
        month,
        count(*) as nps_respondents,
        sum(case when score >= 9 then 1 else 0 end) as nps_promoters,
        sum(case when score between 7 and 8 then 1 else 0 end) as nps_passives,
        sum(case when score <= 6 then 1 else 0 end) as nps_detractors
    from survey_answers
    where survey_kind = 'nps' and score between 0 and 10
    group by month
),

csat as (
    select
        month,
        count(*) as csat_responses,
        sum(case when score >= 4 then 1 else 0 end) as csat_satisfied
    from survey_answers
    where survey_kind = 'csat' and score between 1 and 5
    group by month
),

ces as (
    select
        month,
        count(*) as ces_responses,
        sum(score) as ces_score_sum
    from survey_answers
    where survey_kind = 'ces' and score between 1 and 7
    group by month
),

tickets_by_created_month as (
    select
        created_month as month,
        count(*) as tickets_created,
        count(first_reply_at) as tickets_with_first_reply,
        percentile_cont(0.5) within group (order by first_reply_calendar_minutes)
            as first_reply_median_calendar_minutes,
        percentile_cont(0.5) within group (order by first_reply_business_minutes)
            as first_reply_median_business_minutes,
        sum(case when is_solved then 1 else 0 end) as tickets_created_now_solved
    from ticket_months
    group by created_month
),

tickets_by_solved_month as (
    select
        solved_month as month,
        count(*) as tickets_last_solved,
        percentile_cont(0.5) within group (order by full_resolution_calendar_minutes)
            as full_resolution_median_calendar_minutes,
        percentile_cont(0.5) within group (order by full_resolution_business_minutes)
            as full_resolution_median_business_minutes,
        sum(case when is_one_touch_resolution then 1 else 0 end) as one_touch_tickets,
        sum(case when count_reopens > 0 then 1 else 0 end) as reopened_tickets
    from ticket_months
    where last_solved_at is not null
    group by solved_month
),

customers as (
    select
        month,
        sum(case when is_customer_start then 1 else 0 end) as customers_start,
        -- null while any customer's end state is not final yet (see int_customer_months)
        case
            when count(is_customer_end) = count(*)
                then sum(case when is_customer_end then 1 else 0 end)
        end as customers_end,
        case
            when count(is_new) = count(*) then sum(case when is_new then 1 else 0 end)
        end as customers_new,
        case
            when count(is_churned) = count(*) then sum(case when is_churned then 1 else 0 end)
        end as customers_churned
    from customer_months
    group by month
),

data_months as (
    select month from nps
    union all
    select month from csat
    union all
    select month from ces
    union all
    select month from tickets_by_created_month
    union all
    select month from customers
),

month_range as (
    select
        min(data_months.month) as first_month,
        max({{ cx_utc_month('data_as_of.as_of_at') }}) as last_month,
        max(data_as_of.as_of_date) as as_of_date
    from data_months
    cross join data_as_of
),

months as (
    {{ month_spine('month_range') }}
),

counts as (
    select
        months.month,
        coalesce(nps.nps_respondents, 0) as nps_respondents,
        coalesce(nps.nps_promoters, 0) as nps_promoters,
        coalesce(nps.nps_passives, 0) as nps_passives,
        coalesce(nps.nps_detractors, 0) as nps_detractors,
        coalesce(csat.csat_responses, 0) as csat_responses,
        coalesce(csat.csat_satisfied, 0) as csat_satisfied,
        coalesce(ces.ces_responses, 0) as ces_responses,
        coalesce(ces.ces_score_sum, 0) as ces_score_sum,
        coalesce(created.tickets_created, 0) as tickets_created,
        coalesce(created.tickets_with_first_reply, 0) as tickets_with_first_reply,
        created.first_reply_median_calendar_minutes,
        created.first_reply_median_business_minutes,
        coalesce(solved.tickets_last_solved, 0) as tickets_last_solved,
        solved.full_resolution_median_calendar_minutes,
        solved.full_resolution_median_business_minutes,
        coalesce(created.tickets_created_now_solved, 0) as tickets_created_now_solved,
        coalesce(solved.tickets_last_solved, 0) as solved_tickets,
        coalesce(solved.one_touch_tickets, 0) as one_touch_tickets,
        coalesce(solved.reopened_tickets, 0) as reopened_tickets,
        coalesce(customers.customers_start, 0) as customers_start,
        -- no customer rows: the end state is 0 once the data has passed day 1 of the next month
        case
            when customers.month is not null then customers.customers_end
            when months.as_of_date > months.next_month then 0
        end as customers_end,
        case
            when customers.month is not null then customers.customers_new
            when months.as_of_date > months.next_month then 0
        end as customers_new,
        -- no customers at the start of the month: nobody can churn in it
        coalesce(customers.customers_churned, case when customers.month is null then 0 end)
            as customers_churned
    from months
    left join nps on months.month = nps.month
    left join csat on months.month = csat.month
    left join ces on months.month = ces.month
    left join tickets_by_created_month as created on months.month = created.month
    left join tickets_by_solved_month as solved on months.month = solved.month
    left join customers on months.month = customers.month
),

final as (
    select
        month,
        cast(nps_respondents as {{ dbt.type_bigint() }}) as nps_respondents,
        cast(nps_promoters as {{ dbt.type_bigint() }}) as nps_promoters,
        cast(nps_passives as {{ dbt.type_bigint() }}) as nps_passives,
        cast(nps_detractors as {{ dbt.type_bigint() }}) as nps_detractors,
        cast(
            100.0 * (nps_promoters - nps_detractors) / nullif(nps_respondents, 0)
            as {{ ex_type_double() }}
        ) as nps,
        cast(csat_responses as {{ dbt.type_bigint() }}) as csat_responses,
        cast(csat_satisfied as {{ dbt.type_bigint() }}) as csat_satisfied,
        cast(100.0 * csat_satisfied / nullif(csat_responses, 0) as {{ ex_type_double() }}) as csat,
        cast(ces_responses as {{ dbt.type_bigint() }}) as ces_responses,
        cast(ces_score_sum as {{ dbt.type_bigint() }}) as ces_score_sum,
        cast(1.0 * ces_score_sum / nullif(ces_responses, 0) as {{ ex_type_double() }}) as ces,
        cast(tickets_created as {{ dbt.type_bigint() }}) as tickets_created,
        cast(tickets_with_first_reply as {{ dbt.type_bigint() }}) as tickets_with_first_reply,
        cast(first_reply_median_calendar_minutes as {{ ex_type_double() }})
            as first_reply_median_calendar_minutes,
        cast(first_reply_median_business_minutes as {{ ex_type_double() }})
            as first_reply_median_business_minutes,
        cast(tickets_last_solved as {{ dbt.type_bigint() }}) as tickets_last_solved,
        cast(full_resolution_median_calendar_minutes as {{ ex_type_double() }})
            as full_resolution_median_calendar_minutes,
        cast(full_resolution_median_business_minutes as {{ ex_type_double() }})
            as full_resolution_median_business_minutes,
        cast(tickets_created_now_solved as {{ dbt.type_bigint() }}) as tickets_created_now_solved,
        cast(1.0 * tickets_created_now_solved / nullif(tickets_created, 0) as {{ ex_type_double() }})
            as resolution_rate,
        cast(solved_tickets as {{ dbt.type_bigint() }}) as solved_tickets,
        cast(one_touch_tickets as {{ dbt.type_bigint() }}) as one_touch_tickets,
        cast(1.0 * one_touch_tickets / nullif(solved_tickets, 0) as {{ ex_type_double() }})
            as one_touch_rate,
        cast(reopened_tickets as {{ dbt.type_bigint() }}) as reopened_tickets,
        cast(1.0 * reopened_tickets / nullif(solved_tickets, 0) as {{ ex_type_double() }})
            as reopen_rate,
        cast(customers_start as {{ dbt.type_bigint() }}) as customers_start,
        cast(customers_end as {{ dbt.type_bigint() }}) as customers_end,
        cast(customers_new as {{ dbt.type_bigint() }}) as customers_new,
        cast(customers_churned as {{ dbt.type_bigint() }}) as customers_churned,
        cast(1.0 * customers_churned / nullif(customers_start, 0) as {{ ex_type_double() }})
            as churn_rate,
        cast(
            1.0 * (customers_end - customers_new) / nullif(customers_start, 0) as {{ ex_type_double() }}
        ) as retention_rate
    from counts
)

select * from final
