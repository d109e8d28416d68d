{#- Every raw survey response with its survey's kind and the embedded fields of that kind,
    `_quarantine_reason` (null = usable) and `_dedup_rank`. Identity stays with the kind it
    belongs to: a ticket id only on CSAT, an email only on NPS, department/team/tenure only
    on the anonymous employee pulse (which never carries a ticket or an email). A CSAT
    response without a ticket id is usable (ticket_id null, reported as unmatched). -#}
with

source as (
    select * from {{ source('raw_qualtrics', 'survey_responses') }}
),

surveys as (
    select
        survey_id,
        survey_kind
    from {{ ref('stg_qualtrics__surveys') }}
),

renamed as (
    select
        ---------- ids
        nullif(trim(source.response_id), '') as response_id,
        nullif(trim(source.survey_id), '') as survey_id,
        ---------- json
        source.values as response_values,
        ---------- timestamps
        cast(source.recorded_date as {{ type_timestamp_tz() }}) as recorded_at,
        ---------- metadata
        source._dlt_load_id,
        source._dlt_id
    from source
),

typed as (
    select
        renamed.*,
        surveys.survey_id is not null as is_survey_staged,
        surveys.survey_kind,
        case
            when surveys.survey_kind = 'csat'
                then cast({{ parse_number(json_text('renamed.response_values', "'ticket_id'")) }} as bigint)
        end as ticket_id,
        case
            when surveys.survey_kind = 'nps'
                then {{ normalize_email(json_text('renamed.response_values', "'recipientEmail'")) }}
        end as respondent_email,
        case
            when surveys.survey_kind = 'enps'
                then nullif(trim({{ json_text('renamed.response_values', "'department'") }}), '')
        end as department,
        case
            when surveys.survey_kind = 'enps'
                then nullif(trim({{ json_text('renamed.response_values', "'team'") }}), '')
        end as team,
        case
            when surveys.survey_kind = 'enps'
                then nullif(trim({{ json_text('renamed.response_values', "'tenure_band'") }}), '')
        end as tenure_band
    from renamed
    left join surveys
        on renamed.survey_id = surveys.survey_id
),

validated as (
    select
        *,
        case
            when response_id is null then 'missing primary key'
            when recorded_at is null then 'missing recorded_at'
            when not is_survey_staged then 'orphan reference: survey'
            when survey_kind is null then 'unknown survey kind'
        end as _quarantine_reason
    from typed
),

ranked as (
    select
        *,
        {{ dedup_rank(['response_id'], 'recorded_at desc nulls last') }} as _dedup_rank,
        {{ source_key(['response_id']) }} as _source_key
    from validated
)

select * from ranked
