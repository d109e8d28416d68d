{#- The pulse-survey figures as they may be published, per month and department and per
    month, department and team, with both kinds of suppression applied, for closed months
    only, from their frozen counts (int_ex_survey_frozen): an open month publishes no survey
    figure, and a closed month's figures never change once published.

    Primary: a group whose figures would disclose individual answers (`ex_is_disclosive`):
    fewer than var('min_respondents') respondents behind any figure, or all its eNPS answers
    in one category, or all or none of its engagement answers favorable.

    Secondary: a department's published figures minus its published teams' figures give the
    "residual" (its suppressed teams plus responses without a team). When the residual is
    not empty and would itself be disclosive (1 to min_respondents - 1 respondents behind a
    count, or all in one category), the smallest published team of that department and month
    (fewest respondents, then name) is suppressed too, and again until the residual is
    safe. That always ends: with every team suppressed the residual is the department,
    which is published only when it is not disclosive itself. No company total is
    published, so departments need no secondary suppression among themselves.

    Suppressed rows carry null for every survey figure, respondents included. -#}
{%- set counts = ['respondents', 'enps_respondents', 'enps_promoters', 'enps_passives',
                  'enps_detractors', 'engagement_respondents', 'engagement_answers',
                  'engagement_favorable'] %}
{%- set team_order -%}
    order by teams.respondents, teams.enps_respondents, teams.engagement_respondents, teams.team
    rows between unbounded preceding and current row
{%- endset %}
with

frozen as (
    select * from {{ ref('int_ex_survey_frozen') }}
),

survey_groups as (
    select
        frozen.month,
        frozen.group_level,
        frozen.department,
        frozen.team,
        {%- for count in counts %}
            frozen.{{ count }},
        {%- endfor %}
        {{ ex_is_disclosive('frozen.') }} as is_primary_suppressed
    from frozen
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
        {%- for count in counts %}
            sum(teams.{{ count }}) as {{ count }},
        {%- endfor %}
        teams.month,
        teams.department
    from teams
    where not teams.is_primary_suppressed
    group by teams.month, teams.department
),

residuals as (
    select
        {%- for count in counts %}
            departments.{{ count }} - coalesce(published.{{ count }}, 0) as residual_{{ count }},
        {%- endfor %}
        departments.month,
        departments.department,
        departments.is_primary_suppressed as is_department_suppressed
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
        case
            when {{ ex_is_disclosive('residuals.residual_', allow_empty=true) }} then false
            else true
        end as is_residual_safe,
        {%- for count in counts %}
            residuals.residual_{{ count }} + sum(teams.{{ count }}) over (
                partition by teams.month, teams.department
                {{ team_order }}
            ) as after_{{ count }},
        {%- endfor %}
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
        case when {{ ex_is_disclosive('after_') }} then 0 else 1 end as is_safe_after
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
