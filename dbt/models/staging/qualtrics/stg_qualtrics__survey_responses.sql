with

survey_responses as (
    select * from {{ ref('base_qualtrics__survey_responses') }}
    where _quarantine_reason is null and _dedup_rank = 1
),

final as (
    select
        ---------- ids
        response_id,
        survey_id,
        ---------- strings
        survey_kind,
        ---------- timestamps
        recorded_at,
        ---------- identity (only the kind's own)
        ticket_id,
        respondent_email,
        department,
        team,
        tenure_band
    from survey_responses
)

select * from final
