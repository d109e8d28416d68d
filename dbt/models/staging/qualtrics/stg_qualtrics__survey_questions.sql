with

survey_questions as (
    select * from {{ ref('base_qualtrics__survey_questions') }}
    where _quarantine_reason is null and _dedup_rank = 1
),

final as (
    select
        ---------- ids
        survey_id,
        question_id,
        ---------- strings
        question_text,
        selector,
        question_role,
        ---------- numerics
        scale_min,
        scale_max
    from survey_questions
)

select * from final
