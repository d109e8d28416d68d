{#- Every raw survey with its kind from the `qualtrics_survey_kinds` seed (by name),
    `_quarantine_reason` (null = usable) and `_dedup_rank`. A survey the seed does not know
    is staged with a null kind; its responses are quarantined until the seed names it. -#}
with

source as (
    select * from {{ source('raw_qualtrics', 'surveys') }}
),

survey_kinds as (
    select * from {{ ref('qualtrics_survey_kinds') }}
),

renamed as (
    select
        ---------- ids
        source.id as survey_id,
        ---------- strings
        nullif(trim(source.name), '') as survey_name,
        survey_kinds.survey_kind,
        ---------- timestamps
        cast(source.last_modified as {{ type_timestamp_tz() }}) as updated_at,
        ---------- metadata
        source._dlt_load_id,
        source._dlt_id
    from source
    left join survey_kinds
        on trim(source.name) = survey_kinds.survey_name
),

validated as (
    select
        *,
        case
            when survey_id is null then 'missing primary key'
        end as _quarantine_reason
    from renamed
),

ranked as (
    select
        *,
        {{ dedup_rank(['survey_id'], 'updated_at desc nulls last') }} as _dedup_rank,
        {{ source_key(['survey_id']) }} as _source_key
    from validated
)

select * from ranked
