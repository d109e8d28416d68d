{#- One row per answer a staged response holds to a scored question of its survey
    (role csat/ces/nps/enps/engagement), with `_quarantine_reason` (null = usable).
    Answers are read from the response JSON by question id. An unanswered question has no
    key and so no row. A value that is not a number ("N/A") or not an integer within the
    question's scale (CSAT 6, NPS 11) is quarantined per answer: the response stays.
    A table: the JSON is read once per build, not by each of its readers and tests. -#}
{{ config(materialized='table') }}
with

responses as (
    select * from {{ ref('base_qualtrics__survey_responses') }}
    where _quarantine_reason is null and _dedup_rank = 1
),

scored_questions as (
    select * from {{ ref('stg_qualtrics__survey_questions') }}
    where
        question_role in ('csat', 'ces', 'nps', 'enps', 'engagement')
        and scale_min is not null
        and scale_max is not null
),

answers as (
    select
        ---------- ids
        responses.response_id,
        responses.survey_id,
        scored_questions.question_id,
        ---------- strings
        responses.survey_kind,
        scored_questions.question_role,
        scored_questions.scale_min,
        scored_questions.scale_max,
        {{ json_text('responses.response_values', 'scored_questions.question_id') }} as raw_answer,
        ---------- timestamps
        responses.recorded_at,
        ---------- metadata
        responses._dlt_load_id,
        responses._dlt_id
    from responses
    inner join scored_questions
        on responses.survey_id = scored_questions.survey_id
),

answered as (
    select
        *,
        {{ parse_number('raw_answer') }} as numeric_answer
    from answers
    where raw_answer is not null
),

validated as (
    select
        *,
        case
            when numeric_answer is null then 'non-numeric answer'
            when
                numeric_answer <> floor(numeric_answer)
                or numeric_answer < scale_min
                or numeric_answer > scale_max
                then 'answer out of range'
        end as _quarantine_reason
    from answered
),

scored as (
    select
        *,
        case when _quarantine_reason is null then cast(numeric_answer as integer) end as score,
        1 as _dedup_rank,
        response_id || ':' || question_id as _source_key
    from validated
)

select * from scored
