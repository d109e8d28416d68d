{#- Primary suppression as published. A failing row is a mart row that is suppressed but
    still shows a survey figure, or is not suppressed although fewer than min_respondents
    respondents (or eNPS answers) stand behind it, its eNPS answers are all in one category,
    all or none of its engagement answers are favorable, or a figure is missing. -#}
{%- set k = var('min_respondents') %}
{%- set survey_columns = ['respondents', 'enps_promoters', 'enps_passives', 'enps_detractors',
                          'enps', 'engagement_answers', 'engagement_favorable', 'engagement'] %}
with

published_rows as (
    select
        'ex_metrics_monthly' as mart, month, department as group_name,
        {{ survey_columns | join(', ') }}, is_suppressed
    from {{ ref('ex_metrics_monthly') }}
    union all
    select
        'xm_team_monthly' as mart, month, team as group_name,
        {{ survey_columns | join(', ') }}, is_suppressed
    from {{ ref('xm_team_monthly') }}
)

select *
from published_rows
where (
    is_suppressed
    and (
        {%- for column in survey_columns %}
            {{ column }} is not null{% if not loop.last %} or{% endif %}
        {%- endfor %}
    )
)
or (
    not is_suppressed
    and (
        {%- for column in survey_columns %}
            {{ column }} is null or
        {%- endfor %}
        respondents < {{ k }}
        or enps_promoters + enps_passives + enps_detractors < {{ k }}
        or enps_promoters + enps_passives = 0
        or enps_passives + enps_detractors = 0
        or enps_promoters + enps_detractors = 0
        or engagement_favorable = engagement_answers
        or engagement_favorable = 0
    )
)
