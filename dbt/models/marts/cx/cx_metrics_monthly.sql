{#- One row per UTC calendar month, from the first month with any CX data to the month the
    freshest of its sources (help desk, surveys, CRM) has reached. Every ratio ships with its
    numerator and denominator; a ratio is null when its denominator is 0. Each source
    decides its own columns up to its own horizon (int_source_horizons): the customer
    columns are null until the CRM data has passed the day they describe, whatever the help
    desk or survey data say; `is_complete_month` is true only once every source has passed
    the whole month (the CRM also the first day of the next month, which decides the month's
    end state). Small survey samples come with 95% intervals and a trailing 3-month NPS.
    Definitions: _cx__docs.md and DECISIONS.md. -#}
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

won_deals as (
    select * from {{ ref('int_won_deals') }}
),

horizons as (
    select * from {{ ref('int_source_horizons') }}
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
        sum(score) as ces_score_sum,
        cast(stddev_samp(score) as {{ ex_type_double() }}) as ces_score_stddev
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

-- counts of the customer statuses; whether the month's CRM data is decided is applied below
customers as (
    select
        month,
        sum(case when is_customer_start then 1 else 0 end) as customers_start,
        sum(case when is_customer_end then 1 else 0 end) as customers_end,
        sum(case when is_new then 1 else 0 end) as customers_new,
        sum(case when is_churned then 1 else 0 end) as customers_churned
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
        max({{ cx_utc_month('horizons.zendesk_loaded_through_at') }}) as zendesk_last_month,
        max({{ cx_utc_month('horizons.qualtrics_loaded_through_at') }}) as qualtrics_last_month,
        max({{ cx_utc_month('horizons.hubspot_loaded_through_at') }}) as hubspot_last_month,
        max(horizons.zendesk_loaded_through_date) as zendesk_loaded_through_date,
        max(horizons.qualtrics_loaded_through_date) as qualtrics_loaded_through_date,
        max(horizons.hubspot_decided_through_date) as crm_decided_through_date
    from data_months
    cross join horizons
),

month_bounds as (
    select
        first_month,
        -- the month the freshest source has reached (a source never loaded counts for none)
        greatest(
            coalesce(zendesk_last_month, first_month),
            coalesce(qualtrics_last_month, first_month),
            coalesce(hubspot_last_month, first_month)
        ) as last_month,
        zendesk_loaded_through_date,
        qualtrics_loaded_through_date,
        crm_decided_through_date
    from month_range
),

months as (
    {{ month_spine('month_bounds') }}
),

-- won deals staging kept out of the contracts (int_won_deals) whose period covers day 1
excluded_contracts as (
    select
        months.month,
        count(*) as excluded_contracts_start,
        sum(won_deals.annual_contract_value) as excluded_contract_value_start
    from months
    inner join won_deals
        on
            months.month >= won_deals.contract_start_date
            and months.month < won_deals.contract_end_date
    where not won_deals.is_contract
    group by months.month
),

counts as (
    select
        months.month,
        coalesce(
            months.zendesk_loaded_through_date >= months.next_month
            and months.qualtrics_loaded_through_date >= months.next_month
            and months.crm_decided_through_date >= months.next_month,
            false
        ) as is_complete_month,
        coalesce(nps.nps_respondents, 0) as nps_respondents,
        coalesce(nps.nps_promoters, 0) as nps_promoters,
        coalesce(nps.nps_passives, 0) as nps_passives,
        coalesce(nps.nps_detractors, 0) as nps_detractors,
        coalesce(csat.csat_responses, 0) as csat_responses,
        coalesce(csat.csat_satisfied, 0) as csat_satisfied,
        coalesce(ces.ces_responses, 0) as ces_responses,
        coalesce(ces.ces_score_sum, 0) as ces_score_sum,
        ces.ces_score_stddev,
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
        -- the CRM decides day 1 of the month (customers_start) once its data has passed
        -- that day, and day 1 of the next month (the end state) once it has passed that one
        case
            when months.crm_decided_through_date >= months.month
                then coalesce(customers.customers_start, 0)
        end as customers_start,
        case
            when months.crm_decided_through_date >= months.next_month
                then coalesce(customers.customers_end, 0)
        end as customers_end,
        case
            when months.crm_decided_through_date >= months.next_month
                then coalesce(customers.customers_new, 0)
        end as customers_new,
        case
            when months.crm_decided_through_date >= months.next_month
                then coalesce(customers.customers_churned, 0)
        end as customers_churned,
        case
            when months.crm_decided_through_date >= months.month
                then coalesce(excluded.excluded_contracts_start, 0)
        end as excluded_contracts_start,
        case
            when months.crm_decided_through_date >= months.month
                then coalesce(excluded.excluded_contract_value_start, 0)
        end as excluded_contract_value_start
    from months
    left join nps on months.month = nps.month
    left join csat on months.month = csat.month
    left join ces on months.month = ces.month
    left join tickets_by_created_month as created on months.month = created.month
    left join tickets_by_solved_month as solved on months.month = solved.month
    left join customers on months.month = customers.month
    left join excluded_contracts as excluded on months.month = excluded.month
),

-- NPS over the month and the two before it (the relationship survey is quarterly)
nps_windows as (
    select
        *,
        count(*) over (order by month rows between 2 preceding and current row)
            as trailing_months,
        sum(nps_respondents) over (order by month rows between 2 preceding and current row)
            as window_nps_respondents,
        sum(nps_promoters) over (order by month rows between 2 preceding and current row)
            as window_nps_promoters,
        sum(nps_detractors) over (order by month rows between 2 preceding and current row)
            as window_nps_detractors
    from counts
),

windowed as (
    select
        *,
        case when trailing_months = 3 then window_nps_respondents end
            as nps_trailing_3m_respondents,
        case when trailing_months = 3 then window_nps_promoters end
            as nps_trailing_3m_promoters,
        case when trailing_months = 3 then window_nps_detractors end
            as nps_trailing_3m_detractors
    from nps_windows
),

final as (
    select
        month,
        is_complete_month,
        cast(nps_respondents as {{ dbt.type_bigint() }}) as nps_respondents,
        cast(nps_promoters as {{ dbt.type_bigint() }}) as nps_promoters,
        cast(nps_passives as {{ dbt.type_bigint() }}) as nps_passives,
        cast(nps_detractors as {{ dbt.type_bigint() }}) as nps_detractors,
        cast(
            100.0 * (nps_promoters - nps_detractors) / nullif(nps_respondents, 0)
            as {{ ex_type_double() }}
        ) as nps,
        cast(
            {{ cx_nps_interval('nps_promoters', 'nps_detractors', 'nps_respondents', 'low') }}
            as {{ ex_type_double() }}
        ) as nps_ci_low,
        cast(
            {{ cx_nps_interval('nps_promoters', 'nps_detractors', 'nps_respondents', 'high') }}
            as {{ ex_type_double() }}
        ) as nps_ci_high,
        cast(nps_trailing_3m_respondents as {{ dbt.type_bigint() }})
            as nps_trailing_3m_respondents,
        cast(nps_trailing_3m_promoters as {{ dbt.type_bigint() }}) as nps_trailing_3m_promoters,
        cast(nps_trailing_3m_detractors as {{ dbt.type_bigint() }})
            as nps_trailing_3m_detractors,
        cast(
            100.0 * (nps_trailing_3m_promoters - nps_trailing_3m_detractors)
            / nullif(nps_trailing_3m_respondents, 0)
            as {{ ex_type_double() }}
        ) as nps_trailing_3m,
        cast({{ cx_nps_interval(
            'nps_trailing_3m_promoters',
            'nps_trailing_3m_detractors',
            'nps_trailing_3m_respondents',
            'low'
        ) }} as {{ ex_type_double() }}) as nps_trailing_3m_ci_low,
        cast({{ cx_nps_interval(
            'nps_trailing_3m_promoters',
            'nps_trailing_3m_detractors',
            'nps_trailing_3m_respondents',
            'high'
        ) }} as {{ ex_type_double() }}) as nps_trailing_3m_ci_high,
        cast(csat_responses as {{ dbt.type_bigint() }}) as csat_responses,
        cast(csat_satisfied as {{ dbt.type_bigint() }}) as csat_satisfied,
        cast(100.0 * csat_satisfied / nullif(csat_responses, 0) as {{ ex_type_double() }}) as csat,
        cast(
            {{ cx_wilson_interval('csat_satisfied', 'csat_responses', 'low') }}
            as {{ ex_type_double() }}
        ) as csat_ci_low,
        cast(
            {{ cx_wilson_interval('csat_satisfied', 'csat_responses', 'high') }}
            as {{ ex_type_double() }}
        ) as csat_ci_high,
        cast(ces_responses as {{ dbt.type_bigint() }}) as ces_responses,
        cast(ces_score_sum as {{ dbt.type_bigint() }}) as ces_score_sum,
        cast(1.0 * ces_score_sum / nullif(ces_responses, 0) as {{ ex_type_double() }}) as ces,
        cast(
            {{ cx_mean_interval('ces_score_sum', 'ces_responses', 'ces_score_stddev', 'low', 1, 7) }}
            as {{ ex_type_double() }}
        ) as ces_ci_low,
        cast(
            {{ cx_mean_interval('ces_score_sum', 'ces_responses', 'ces_score_stddev', 'high', 1, 7) }}
            as {{ ex_type_double() }}
        ) as ces_ci_high,
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
        ) as retention_rate,
        cast(excluded_contracts_start as {{ dbt.type_bigint() }}) as excluded_contracts_start,
        cast(excluded_contract_value_start as {{ ex_type_double() }}) as excluded_contract_value_start
    from windowed
)

select * from final
