{#- The pulse-survey figures as they may be published, per month and department and per
    month, department and team, with both kinds of suppression applied.

    Primary: a group with fewer than var('min_respondents') respondents behind any figure
    (int_ex_survey_groups).

    Secondary: a department's published figures minus its published teams' figures give the
    "residual" (its suppressed teams plus responses without a team). When any residual count
    (respondents, eNPS respondents, engagement respondents) is between 1 and
    min_respondents - 1, the smallest published team of that department and month
    (fewest respondents, then name) is suppressed too, and again until every residual count
    is 0 or at least min_respondents. That always ends: with every team suppressed the
    residual is the department, which is published only when large enough. No company total
    is published, so departments need no secondary suppression among themselves.

    Suppressed rows carry null for every survey figure, respondents included. -#}
{%- set k = var('min_respondents') %}
with

survey_groups as (
    select * from {{ ref('int_ex_survey_groups') }}
),

departments as (
    select * from survey_groups
    where group_level = 'department'
),

teams as (
    select * from survey_groups
    where group_level = 'team'
),

primary_published_team_totals as (
    select
        teams.month,
        teams.department,
        sum(teams.respondents) as respondents,
        sum(teams.enps_respondents) as enps_respondents,
        sum(teams.engagement_respondents) as engagement_respondents
    from teams
    where not teams.is_primary_suppressed
    group by teams.month, teams.department
),

residuals as (
    select
        departments.month,
        departments.department,
        departments.is_primary_suppressed as is_department_suppressed,
        departments.respondents - coalesce(published.respondents, 0) as residual_respondents,
        departments.enps_respondents - coalesce(published.enps_respondents, 0)
            as residual_enps_respondents,
        departments.engagement_respondents - coalesce(published.engagement_respondents, 0)
            as residual_engagement_respondents
    from departments
    left join primary_published_team_totals as published
        on
            departments.month = published.month
            and departments.department = published.department
),

-- published teams, smallest first, with the residual after suppressing them up to each one
candidate_teams as (
    select
        teams.month,
        teams.department,
        teams.team,
        residuals.is_department_suppressed,
        (
            residuals.residual_respondents not between 1 and {{ k - 1 }}
            and residuals.residual_enps_respondents not between 1 and {{ k - 1 }}
            and residuals.residual_engagement_respondents not between 1 and {{ k - 1 }}
        ) as is_residual_safe,
        residuals.residual_respondents + sum(teams.respondents) over (
            partition by teams.month, teams.department
            order by teams.respondents, teams.enps_respondents, teams.engagement_respondents, teams.team
            rows between unbounded preceding and current row
        ) as respondents_after,
        residuals.residual_enps_respondents + sum(teams.enps_respondents) over (
            partition by teams.month, teams.department
            order by teams.respondents, teams.enps_respondents, teams.engagement_respondents, teams.team
            rows between unbounded preceding and current row
        ) as enps_respondents_after,
        residuals.residual_engagement_respondents + sum(teams.engagement_respondents) over (
            partition by teams.month, teams.department
            order by teams.respondents, teams.enps_respondents, teams.engagement_respondents, teams.team
            rows between unbounded preceding and current row
        ) as engagement_respondents_after,
        teams.respondents,
        teams.enps_respondents,
        teams.engagement_respondents
    from teams
    inner join residuals
        on
            teams.month = residuals.month
            and teams.department = residuals.department
    where not teams.is_primary_suppressed
),

candidate_steps as (
    select
        *,
        case
            when
                respondents_after >= {{ k }}
                and enps_respondents_after >= {{ k }}
                and engagement_respondents_after >= {{ k }}
                then 1
            else 0
        end as is_safe_after
    from candidate_teams
),

secondary_flags as (
    select
        month,
        department,
        team,
        (
            not is_department_suppressed
            and not is_residual_safe
            and coalesce(sum(is_safe_after) over (
                partition by month, department
                order by respondents, enps_respondents, engagement_respondents, team
                rows between unbounded preceding and 1 preceding
            ), 0) = 0
        ) as is_secondary_suppressed
    from candidate_steps
),

flagged as (
    select
        survey_groups.*,
        coalesce(secondary_flags.is_secondary_suppressed, false) as is_secondary_suppressed
    from survey_groups
    left join secondary_flags
        on
            survey_groups.group_level = 'team'
            and survey_groups.month = secondary_flags.month
            and survey_groups.department = secondary_flags.department
            and survey_groups.team = secondary_flags.team
),

published as (
    select
        month,
        group_level,
        department,
        team,
        is_primary_suppressed,
        is_secondary_suppressed,
        is_primary_suppressed or is_secondary_suppressed as is_suppressed,
        respondents,
        enps_promoters,
        enps_passives,
        enps_detractors,
        engagement_answers,
        engagement_favorable
    from flagged
)

select
    month,
    group_level,
    department,
    team,
    is_primary_suppressed,
    is_secondary_suppressed,
    is_suppressed,
    case when not is_suppressed then respondents end as respondents,
    case when not is_suppressed then enps_promoters end as enps_promoters,
    case when not is_suppressed then enps_passives end as enps_passives,
    case when not is_suppressed then enps_detractors end as enps_detractors,
    case
        when not is_suppressed then
            {{ ex_ratio('enps_promoters - enps_detractors', 'enps_promoters + enps_passives + enps_detractors', 100) }}
    end as enps,
    case when not is_suppressed then engagement_answers end as engagement_answers,
    case when not is_suppressed then engagement_favorable end as engagement_favorable,
    case
        when not is_suppressed then
            {{ ex_ratio('engagement_favorable', 'engagement_answers', 100) }}
    end as engagement
from published
