-- A failing row: a staged survey answer whose score lies outside its question's scale (or
-- whose question is unknown), which would distort NPS, CSAT, CES or engagement.
select
    answers.response_id,
    answers.question_id,
    answers.score,
    questions.scale_min,
    questions.scale_max
from {{ ref('stg_qualtrics__survey_answers') }} as answers
left join {{ ref('stg_qualtrics__survey_questions') }} as questions
    on
        answers.survey_id = questions.survey_id
        and answers.question_id = questions.question_id
where
    questions.question_id is null
    or answers.score < questions.scale_min
    or answers.score > questions.scale_max
    or answers.question_role <> questions.question_role
