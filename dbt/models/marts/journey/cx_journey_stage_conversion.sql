{#- One row per cohort month x journey stage. A customer's cohort is the UTC month of its
    first stage spell (when it entered the journey). `customers_reached`: customers of the
    cohort that have had a spell of the stage (the first spell included); `conversion_rate`
    = 100 x reached / cohort; `median_days_to_stage`: from entering the journey to the first
    entry of the stage, over the customers that reached it (0 for the stage they entered in).
    Later cohorts have had less time: read them with `cohort_age_days`. -#}
with

spells as (
    select * from {{ ref('fct_customer_stage_spells') }}
),

stages as (
    select * from {{ ref('journey_stages') }}
),

entries as (
    select
        customer_id,
        min(entered_at) as journey_started_at
    from spells
    group by customer_id
),

cohorts as (
    select
        customer_id,
        journey_started_at,
        {{ cx_utc_month('journey_started_at') }} as cohort_month
    from entries
),

cohort_sizes as (
    select
        cohort_month,
        count(*) as customers_in_cohort
    from cohorts
    group by cohort_month
),

first_reached as (
    select
        spells.customer_id,
        spells.journey_stage,
        min(spells.entered_at) as first_entered_at
    from spells
    group by spells.customer_id, spells.journey_stage
),

reached as (
    select
        cohorts.cohort_month,
        first_reached.journey_stage,
        count(*) as customers_reached,
        {{ ex_median(
            cx_minutes_between('cohorts.journey_started_at', 'first_reached.first_entered_at')
            ~ ' / 1440.0'
        ) }} as median_days_to_stage
    from first_reached
    inner join cohorts
        on first_reached.customer_id = cohorts.customer_id
    group by cohorts.cohort_month, first_reached.journey_stage
),

as_of as (
    select max(coalesce(exited_at, entered_at)) as as_of_at from spells
),

final as (
    select
        cohort_sizes.cohort_month,
        stages.journey_stage,
        stages.stage_order,
        cohort_sizes.customers_in_cohort,
        coalesce(reached.customers_reached, 0) as customers_reached,
        100.0 * coalesce(reached.customers_reached, 0) / cohort_sizes.customers_in_cohort
            as conversion_rate,
        reached.median_days_to_stage,
        {{ dbt.datediff('cohort_sizes.cohort_month', cx_utc_date('as_of.as_of_at'), 'day') }}
            as cohort_age_days
    from cohort_sizes
    cross join stages
    cross join as_of
    left join reached
        on
            cohort_sizes.cohort_month = reached.cohort_month
            and stages.journey_stage = reached.journey_stage
)

select * from final
