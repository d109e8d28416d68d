{#- Pulse-survey counts per month and group, before any suppression: one row per month and
    department (`group_level` 'department', team null) and per month, department and team
    (`group_level` 'team'). eNPS: promoters answer 9-10, passives 7-8, detractors 0-6.
    Engagement: favorable item answers are 4 or 5. `is_primary_suppressed` when fewer than
    var('min_respondents') responses stand behind any published figure (all respondents, the
    eNPS respondents, or the engagement respondents), or when all eNPS answers fall in one
    category or all engagement answers are favorable or none is (`ex_is_disclosive`).
    Live counts of every month, open ones included: only int_ex_survey_frozen reads them. -#}
{%- set aggregates %}
        count(distinct pulse_answers.response_id) as respondents,
        count(distinct case when pulse_answers.question_role = 'enps' then pulse_answers.response_id end)
            as enps_respondents,
        sum(case when pulse_answers.question_role = 'enps' and pulse_answers.score >= 9 then 1 else 0 end)
            as enps_promoters,
        sum(case when pulse_answers.question_role = 'enps' and pulse_answers.score between 7 and 8 then 1 else 0 end)
            as enps_passives,
        sum(case when pulse_answers.question_role = 'enps' and pulse_answers.score <= 6 then 1 else 0 end)
            as enps_detractors,
        count(distinct case when pulse_answers.question_role = 'engagement' then pulse_answers.response_id end)
            as engagement_respondents,
        sum(case when pulse_answers.question_role = 'engagement' then 1 else 0 end)
            as engagement_answers,
        sum(case when pulse_answers.question_role = 'engagement' and pulse_answers.score >= 4 then 1 else 0 end)
            as engagement_favorable
{%- endset %}
with

pulse_answers as (
    select * from {{ ref('int_ex_pulse_answers') }}
),

department_groups as (
    select
        pulse_answers.month,
        'department' as group_level,
        pulse_answers.department,
        cast(null as {{ dbt.type_string() }}) as team,
        {{ aggregates }}
    from pulse_answers
    group by pulse_answers.month, pulse_answers.department
),

team_groups as (
    select
        pulse_answers.month,
        'team' as group_level,
        pulse_answers.department,
        pulse_answers.team,
        {{ aggregates }}
    from pulse_answers
    where pulse_answers.team is not null
    group by pulse_answers.month, pulse_answers.department, pulse_answers.team
),

unioned as (
    select * from department_groups
    union all
    select * from team_groups
)

select
    month,
    group_level,
    department,
    team,
    cast(respondents as {{ dbt.type_bigint() }}) as respondents,
    cast(enps_respondents as {{ dbt.type_bigint() }}) as enps_respondents,
    cast(enps_promoters as {{ dbt.type_bigint() }}) as enps_promoters,
    cast(enps_passives as {{ dbt.type_bigint() }}) as enps_passives,
    cast(enps_detractors as {{ dbt.type_bigint() }}) as enps_detractors,
    cast(engagement_respondents as {{ dbt.type_bigint() }}) as engagement_respondents,
    cast(engagement_answers as {{ dbt.type_bigint() }}) as engagement_answers,
    cast(engagement_favorable as {{ dbt.type_bigint() }}) as engagement_favorable,
    {{ ex_is_disclosive() }} as is_primary_suppressed
from unioned
