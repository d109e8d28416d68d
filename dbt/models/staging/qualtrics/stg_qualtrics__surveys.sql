with

surveys as (
    select * from {{ ref('base_qualtrics__surveys') }}
    where _quarantine_reason is null and _dedup_rank = 1
),

final as (
    select
        ---------- ids
        survey_id,
        ---------- strings
        survey_name,
        survey_kind
    from surveys
)

select * from final
