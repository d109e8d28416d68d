{#- Anonymity across tables. ex_metrics_monthly publishes the support department's survey
    figures and xm_team_monthly its teams' figures for the same month, so anyone can
    subtract the published teams from the department. A failing row is a month where that
    difference (a) holds 1 to min_respondents - 1 respondents or eNPS answers, or (b) has
    all its eNPS answers in one category or all or none of its engagement answers
    favorable, or (c) equals the frozen figures of one suppressed team that is below the
    threshold: someone's small group is recoverable. -#}
{%- set k = var('min_respondents') %}
{%- set support_department = var('support_department', 'Customer Support') %}
with

department_rows as (
    select * from {{ ref('ex_metrics_monthly') }}
    where
        department = '{{ support_department }}'
        and not is_suppressed
),

team_rows as (
    select * from {{ ref('xm_team_monthly') }}
),

-- the counts the published figures were computed from (closed months, frozen)
true_team_groups as (
    select * from {{ ref('int_ex_survey_frozen') }}
    where
        group_level = 'team'
        and department = '{{ support_department }}'
),

published_team_totals as (
    select
        month,
        sum(respondents) as respondents,
        sum(enps_promoters) as enps_promoters,
        sum(enps_passives) as enps_passives,
        sum(enps_detractors) as enps_detractors,
        sum(engagement_answers) as engagement_answers,
        sum(engagement_favorable) as engagement_favorable
    from team_rows
    where not is_suppressed
    group by month
),

residuals as (
    select
        department_rows.month,
        department_rows.respondents - coalesce(published.respondents, 0) as respondents,
        department_rows.enps_promoters - coalesce(published.enps_promoters, 0) as enps_promoters,
        department_rows.enps_passives - coalesce(published.enps_passives, 0) as enps_passives,
        department_rows.enps_detractors - coalesce(published.enps_detractors, 0) as enps_detractors,
        department_rows.engagement_answers - coalesce(published.engagement_answers, 0)
            as engagement_answers,
        department_rows.engagement_favorable - coalesce(published.engagement_favorable, 0)
            as engagement_favorable
    from department_rows
    left join published_team_totals as published
        on department_rows.month = published.month
),

small_residuals as (
    select
        residuals.month,
        cast(null as {{ dbt.type_string() }}) as team,
        'department minus published teams leaves fewer than {{ k }} respondents' as failure
    from residuals
    where
        residuals.respondents between 1 and {{ k - 1 }}
        or residuals.enps_promoters + residuals.enps_passives + residuals.enps_detractors
        between 1 and {{ k - 1 }}
),

one_category_residuals as (
    select
        residuals.month,
        cast(null as {{ dbt.type_string() }}) as team,
        'department minus published teams leaves answers all in one category' as failure
    from residuals
    where
        (
            residuals.enps_promoters + residuals.enps_passives + residuals.enps_detractors > 0
            and (
                residuals.enps_promoters + residuals.enps_passives = 0
                or residuals.enps_passives + residuals.enps_detractors = 0
                or residuals.enps_promoters + residuals.enps_detractors = 0
            )
        )
        or (
            residuals.engagement_answers > 0
            and (
                residuals.engagement_favorable = residuals.engagement_answers
                or residuals.engagement_favorable = 0
            )
        )
),

recovered_teams as (
    select
        residuals.month,
        true_team_groups.team,
        'department minus published teams equals this suppressed team' as failure
    from residuals
    inner join team_rows
        on
            residuals.month = team_rows.month
            and team_rows.is_suppressed
    inner join true_team_groups
        on
            team_rows.month = true_team_groups.month
            and team_rows.team = true_team_groups.team
    where
        true_team_groups.respondents between 1 and {{ k - 1 }}
        and residuals.respondents = true_team_groups.respondents
        and residuals.enps_promoters = true_team_groups.enps_promoters
        and residuals.enps_passives = true_team_groups.enps_passives
        and residuals.enps_detractors = true_team_groups.enps_detractors
        and residuals.engagement_answers = true_team_groups.engagement_answers
        and residuals.engagement_favorable = true_team_groups.engagement_favorable
)

select * from small_residuals
union all
select * from one_category_residuals
union all
select * from recovered_teams
