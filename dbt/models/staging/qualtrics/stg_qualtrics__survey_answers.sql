with

survey_answers as (
    select * from {{ ref('base_qualtrics__survey_answers') }}
    where _quarantine_reason is null and _dedup_rank = 1
),

final as (
    select
        ---------- ids
        response_id,
        survey_id,
        ---------- strings
        survey_kind,
        question_id,
        question_role,
        ---------- numerics
        score,
        ---------- timestamps
        recorded_at
    from survey_answers
)

select * from final
