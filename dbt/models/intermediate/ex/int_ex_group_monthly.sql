{#- The employee-experience block of the EX marts, assembled once per calendar month and
    group: `group_level` 'department' (group_name = the department) and 'team' (group_name =
    the team, within its department; people without a team are in no team row). Headcount
    on the first and last day, hires, separations, transfers into and out of the group (a
    change of department for a department; of department or team for a team), turnover,
    and the pulse survey's eNPS and engagement with their parts as published by
    int_ex_survey_published. One row per month and group with any headcount, movement or
    survey response that month. ex_metrics_monthly publishes the department rows,
    xm_team_monthly the team rows of the support department. -#}
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
),

group_snapshots as (
    select
        snapshots.month,
        'department' as group_level,
        snapshots.department,
        snapshots.department as group_name,
        snapshots.snapshot,
        snapshots.employee_id
    from snapshots
    union all
    select
        snapshots.month,
        'team' as group_level,
        snapshots.department,
        snapshots.team as group_name,
        snapshots.snapshot,
        snapshots.employee_id
    from snapshots
    where snapshots.team is not null
),

group_movements as (
    select
        movements.month,
        'department' as group_level,
        movements.department,
        movements.department as group_name,
        movements.movement_type,
        movements.termination_type,
        movements.is_department_change as is_group_change
    from movements
    union all
    select
        movements.month,
        'team' as group_level,
        movements.department,
        movements.team as group_name,
        movements.movement_type,
        movements.termination_type,
        movements.is_department_change or movements.is_team_change as is_group_change
    from movements
    where movements.team is not null
),

survey_groups as (
    select
        survey.month,
        survey.group_level,
        survey.department,
        case when survey.group_level = 'team' then survey.team else survey.department end as group_name,
        survey.respondents,
        survey.enps_promoters,
        survey.enps_passives,
        survey.enps_detractors,
        survey.enps,
        survey.engagement_answers,
        survey.engagement_favorable,
        survey.engagement,
        survey.is_suppressed
    from survey
),

headcounts as (
    select
        group_snapshots.month,
        group_snapshots.group_level,
        group_snapshots.department,
        group_snapshots.group_name,
        count(distinct case when group_snapshots.snapshot = 'first_day' then group_snapshots.employee_id end)
            as headcount_start,
        count(distinct case when group_snapshots.snapshot = 'last_day' then group_snapshots.employee_id end)
            as headcount_end
    from group_snapshots
    group by
        group_snapshots.month,
        group_snapshots.group_level,
        group_snapshots.department,
        group_snapshots.group_name
),

movement_counts as (
    select
        group_movements.month,
        group_movements.group_level,
        group_movements.department,
        group_movements.group_name,
        sum(case when group_movements.movement_type = 'hire' then 1 else 0 end) as hires,
        sum(case when group_movements.movement_type = 'separation' then 1 else 0 end) as separations,
        sum(case
            when group_movements.movement_type = 'separation' and group_movements.termination_type = 'voluntary'
                then 1
            else 0
        end) as voluntary_separations,
        sum(case
            when group_movements.movement_type = 'separation' and group_movements.termination_type = 'involuntary'
                then 1
            else 0
        end) as involuntary_separations,
        sum(case
            when group_movements.movement_type = 'transfer_in' and group_movements.is_group_change
                then 1
            else 0
        end) as transfers_in,
        sum(case
            when group_movements.movement_type = 'transfer_out' and group_movements.is_group_change
                then 1
            else 0
        end) as transfers_out
    from group_movements
    group by
        group_movements.month,
        group_movements.group_level,
        group_movements.department,
        group_movements.group_name
),

month_groups as (
    select
        headcounts.month,
        headcounts.group_level,
        headcounts.department,
        headcounts.group_name
    from headcounts
    union
    select
        movement_counts.month,
        movement_counts.group_level,
        movement_counts.department,
        movement_counts.group_name
    from movement_counts
    where
        movement_counts.hires + movement_counts.separations
        + movement_counts.transfers_in + movement_counts.transfers_out > 0
    union
    select
        survey_groups.month,
        survey_groups.group_level,
        survey_groups.department,
        survey_groups.group_name
    from survey_groups
),

joined as (
    select
        months.month,
        month_groups.group_level,
        month_groups.department,
        month_groups.group_name,
        coalesce(headcounts.headcount_start, 0) as headcount_start,
        coalesce(headcounts.headcount_end, 0) as headcount_end,
        coalesce(movement_counts.hires, 0) as hires,
        coalesce(movement_counts.separations, 0) as separations,
        coalesce(movement_counts.voluntary_separations, 0) as voluntary_separations,
        coalesce(movement_counts.involuntary_separations, 0) as involuntary_separations,
        coalesce(movement_counts.transfers_in, 0) as transfers_in,
        coalesce(movement_counts.transfers_out, 0) as transfers_out,
        survey_groups.month is not null as has_survey_responses,
        survey_groups.respondents,
        survey_groups.enps_promoters,
        survey_groups.enps_passives,
        survey_groups.enps_detractors,
        survey_groups.enps,
        survey_groups.engagement_answers,
        survey_groups.engagement_favorable,
        survey_groups.engagement,
        coalesce(survey_groups.is_suppressed, true) as is_suppressed
    from month_groups
    inner join months
        on month_groups.month = months.month
    left join headcounts
        on
            month_groups.month = headcounts.month
            and month_groups.group_level = headcounts.group_level
            and month_groups.department = headcounts.department
            and month_groups.group_name = headcounts.group_name
    left join movement_counts
        on
            month_groups.month = movement_counts.month
            and month_groups.group_level = movement_counts.group_level
            and month_groups.department = movement_counts.department
            and month_groups.group_name = movement_counts.group_name
    left join survey_groups
        on
            month_groups.month = survey_groups.month
            and month_groups.group_level = survey_groups.group_level
            and month_groups.department = survey_groups.department
            and month_groups.group_name = survey_groups.group_name
)

select
    month,
    cast(group_level as {{ dbt.type_string() }}) as group_level,
    cast(department as {{ dbt.type_string() }}) as department,
    cast(group_name as {{ dbt.type_string() }}) as group_name,
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
    has_survey_responses,
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
