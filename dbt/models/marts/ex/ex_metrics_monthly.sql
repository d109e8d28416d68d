{#- Employee experience per calendar month and department: headcount on the first and
    last day, hires, separations, transfers, turnover, and the pulse survey's eNPS and
    engagement with their parts, suppressed per var('min_respondents') (see
    int_ex_survey_published). One row per month and department with any headcount,
    movement or survey response that month. No company total is published. -#}
with

months as (
    select * from {{ ref('int_ex_months') }}
),

snapshots as (
    select * from {{ ref('int_employee_headcount_snapshots') }}
),

movements as (
    select * from {{ ref('int_employee_movements') }}
),

survey as (
    select * from {{ ref('int_ex_survey_published') }}
    where group_level = 'department'
),

headcounts as (
    select
        snapshots.month,
        snapshots.department,
        count(distinct case when snapshots.snapshot = 'first_day' then snapshots.employee_id end)
            as headcount_start,
        count(distinct case when snapshots.snapshot = 'last_day' then snapshots.employee_id end)
            as headcount_end
    from snapshots
    group by snapshots.month, snapshots.department
),

movement_counts as (
    select
        movements.month,
        movements.department,
        sum(case when movements.movement_type = 'hire' then 1 else 0 end) as hires,
        sum(case when movements.movement_type = 'separation' then 1 else 0 end) as separations,
        sum(case
            when movements.movement_type = 'separation' and movements.termination_type = 'voluntary'
                then 1
            else 0
        end) as voluntary_separations,
        sum(case
            when movements.movement_type = 'separation' and movements.termination_type = 'involuntary'
                then 1
            else 0
        end) as involuntary_separations,
        sum(case
            when movements.movement_type = 'transfer_in' and movements.is_department_change
                then 1
            else 0
        end) as transfers_in,
        sum(case
            when movements.movement_type = 'transfer_out' and movements.is_department_change
                then 1
            else 0
        end) as transfers_out
    from movements
    group by movements.month, movements.department
),

month_departments as (
    select
        headcounts.month,
        headcounts.department
    from headcounts
    union
    select
        movement_counts.month,
        movement_counts.department
    from movement_counts
    where
        movement_counts.hires + movement_counts.separations
        + movement_counts.transfers_in + movement_counts.transfers_out > 0
    union
    select
        survey.month,
        survey.department
    from survey
),

joined as (
    select
        months.month,
        month_departments.department,
        coalesce(headcounts.headcount_start, 0) as headcount_start,
        coalesce(headcounts.headcount_end, 0) as headcount_end,
        coalesce(movement_counts.hires, 0) as hires,
        coalesce(movement_counts.separations, 0) as separations,
        coalesce(movement_counts.voluntary_separations, 0) as voluntary_separations,
        coalesce(movement_counts.involuntary_separations, 0) as involuntary_separations,
        coalesce(movement_counts.transfers_in, 0) as transfers_in,
        coalesce(movement_counts.transfers_out, 0) as transfers_out,
        survey.respondents,
        survey.enps_promoters,
        survey.enps_passives,
        survey.enps_detractors,
        survey.enps,
        survey.engagement_answers,
        survey.engagement_favorable,
        survey.engagement,
        coalesce(survey.is_suppressed, true) as is_suppressed
    from month_departments
    inner join months
        on month_departments.month = months.month
    left join headcounts
        on
            month_departments.month = headcounts.month
            and month_departments.department = headcounts.department
    left join movement_counts
        on
            month_departments.month = movement_counts.month
            and month_departments.department = movement_counts.department
    left join survey
        on
            month_departments.month = survey.month
            and month_departments.department = survey.department
)

select
    month,
    cast(department as {{ dbt.type_string() }}) as department,
    cast(headcount_start as {{ dbt.type_bigint() }}) as headcount_start,
    cast(headcount_end as {{ dbt.type_bigint() }}) as headcount_end,
    cast((headcount_start + headcount_end) / 2.0 as {{ ex_type_double() }}) as average_headcount,
    cast(hires as {{ dbt.type_bigint() }}) as hires,
    cast(separations as {{ dbt.type_bigint() }}) as separations,
    cast(voluntary_separations as {{ dbt.type_bigint() }}) as voluntary_separations,
    cast(involuntary_separations as {{ dbt.type_bigint() }}) as involuntary_separations,
    cast(transfers_in as {{ dbt.type_bigint() }}) as transfers_in,
    cast(transfers_out as {{ dbt.type_bigint() }}) as transfers_out,
    {{ ex_ratio('separations', '(headcount_start + headcount_end) / 2.0') }} as turnover_rate,
    {{ ex_ratio('voluntary_separations', '(headcount_start + headcount_end) / 2.0') }} as voluntary_turnover_rate,
    {{ ex_ratio('involuntary_separations', '(headcount_start + headcount_end) / 2.0') }} as involuntary_turnover_rate,
    cast(respondents as {{ dbt.type_bigint() }}) as respondents,
    cast(enps_promoters as {{ dbt.type_bigint() }}) as enps_promoters,
    cast(enps_passives as {{ dbt.type_bigint() }}) as enps_passives,
    cast(enps_detractors as {{ dbt.type_bigint() }}) as enps_detractors,
    cast(enps as {{ ex_type_double() }}) as enps,
    cast(engagement_answers as {{ dbt.type_bigint() }}) as engagement_answers,
    cast(engagement_favorable as {{ dbt.type_bigint() }}) as engagement_favorable,
    cast(engagement as {{ ex_type_double() }}) as engagement,
    is_suppressed
from joined
