{#- One row per customer survey response and kind: a relationship NPS response gives an
    `nps` row; a post-ticket CSAT response gives a `csat` and a `ces` row. `score` is the
    valid answer, null when that question was unanswered or its answer was invalid
    (quarantined in staging). -#}
with

responses as (
    select * from {{ ref('stg_qualtrics__survey_responses') }}
),

questions as (
    select * from {{ ref('stg_qualtrics__survey_questions') }}
),

answers as (
    select * from {{ ref('stg_qualtrics__survey_answers') }}
),

nps_respondents as (
    select * from {{ ref('int_nps_respondent_contacts') }}
),

csat_tickets as (
    select * from {{ ref('int_csat_response_tickets') }}
),

response_questions as (
    select
        responses.response_id,
        responses.survey_kind as survey_type,
        questions.question_role as survey_kind,
        questions.question_id,
        responses.recorded_at
    from responses
    inner join questions
        on responses.survey_id = questions.survey_id
    where
        (responses.survey_kind = 'nps' and questions.question_role = 'nps')
        or (responses.survey_kind = 'csat' and questions.question_role in ('csat', 'ces'))
),

scored as (
    select
        response_questions.response_id,
        response_questions.survey_type,
        response_questions.survey_kind,
        answers.score,
        response_questions.recorded_at
    from response_questions
    left join answers
        on
            response_questions.response_id = answers.response_id
            and response_questions.question_id = answers.question_id
),

final as (
    select
        cast(scored.response_id as {{ dbt.type_string() }}) as response_id,
        cast(scored.survey_kind as {{ dbt.type_string() }}) as survey_kind,
        cast(scored.score as {{ dbt.type_int() }}) as score,
        scored.recorded_at,
        cast(
            coalesce(nps_respondents.customer_id, csat_tickets.customer_id)
            as {{ dbt.type_string() }}
        ) as customer_id,
        cast(
            coalesce(nps_respondents.contact_id, csat_tickets.contact_id)
            as {{ dbt.type_string() }}
        ) as contact_id,
        cast(csat_tickets.ticket_id as {{ dbt.type_bigint() }}) as ticket_id
    from scored
    left join nps_respondents
        on
            scored.survey_type = 'nps'
            and scored.response_id = nps_respondents.response_id
    left join csat_tickets
        on
            scored.survey_type = 'csat'
            and scored.response_id = csat_tickets.response_id
)

select * from final
