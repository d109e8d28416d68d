{#- The valid answers of the anonymous employee pulse survey (Qualtrics survey_kind
    'enps'): the eNPS item (0-10) and the engagement items (1-5), with the month recorded
    (UTC) and the department and team the response carries. No employee identity exists
    here, and none is ever joined: the survey embeds only department, team and tenure band.
    Tenure band is dropped because no mart uses it and it narrows groups. -#}
with

responses as (
    select * from {{ ref('stg_qualtrics__survey_responses') }}
    where survey_kind = 'enps'
),

answers as (
    select * from {{ ref('stg_qualtrics__survey_answers') }}
    where
        survey_kind = 'enps'
        and question_role in ('enps', 'engagement')
)

select
    answers.response_id,
    {{ cx_utc_month('responses.recorded_at') }} as month,
    coalesce(responses.department, 'Unassigned') as department,
    responses.team,
    answers.question_id,
    answers.question_role,
    answers.score
from answers
inner join responses
    on answers.response_id = responses.response_id
where
    (answers.question_role = 'enps' and answers.score between 0 and 10)
    or (answers.question_role = 'engagement' and answers.score between 1 and 5)
