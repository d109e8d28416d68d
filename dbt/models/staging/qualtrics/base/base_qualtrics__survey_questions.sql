{#- Every raw survey question with its role and scale from the `qualtrics_question_roles`
    seed (by survey kind and question id; a text-entry question not in the seed is 'text'),
    `_quarantine_reason` (null = usable) and `_dedup_rank`. -#}
with

source as (
    select * from {{ source('raw_qualtrics', 'survey_questions') }}
),

surveys as (
    select
        survey_id,
        survey_kind
    from {{ ref('stg_qualtrics__surveys') }}
),

question_roles as (
    select * from {{ ref('qualtrics_question_roles') }}
),

renamed as (
    select
        ---------- ids
        nullif(trim(source.survey_id), '') as survey_id,
        nullif(trim(source.question_id), '') as question_id,
        ---------- strings
        nullif(trim(source.question_text), '') as question_text,
        nullif(trim(source.selector), '') as selector,
        nullif(trim(source.question_type), '') as question_type,
        ---------- metadata
        source._dlt_load_id,
        source._dlt_id
    from source
),

mapped as (
    select
        renamed.*,
        surveys.survey_id is not null as is_survey_staged,
        coalesce(
            question_roles.question_role,
            case when renamed.question_type = 'TE' then 'text' end
        ) as question_role,
        question_roles.scale_min,
        question_roles.scale_max
    from renamed
    left join surveys
        on renamed.survey_id = surveys.survey_id
    left join question_roles
        on
            surveys.survey_kind = question_roles.survey_kind
            and renamed.question_id = question_roles.question_id
),

validated as (
    select
        *,
        case
            when survey_id is null or question_id is null then 'missing primary key'
            when not is_survey_staged then 'orphan reference: survey'
        end as _quarantine_reason
    from mapped
),

ranked as (
    select
        *,
        {{ dedup_rank(['survey_id', 'question_id']) }} as _dedup_rank,
        {{ source_key(['survey_id', 'question_id']) }} as _source_key
    from validated
)

select * from ranked
