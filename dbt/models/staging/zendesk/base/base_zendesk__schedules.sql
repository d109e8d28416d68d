{#- Every raw business-hours schedule with its time zone mapped from Zendesk's Rails name
    ("Eastern Time (US & Canada)") to IANA ("America/New_York") by the `zendesk_time_zones`
    seed; a value that already is one of the seed's IANA names passes through. A schedule
    whose zone maps to nothing is quarantined: its business minutes cannot be computed. -#}
with

source as (
    select * from {{ source('raw_zendesk', 'schedules') }}
),

time_zones as (
    select * from {{ ref('zendesk_time_zones') }}
),

iana_time_zones as (
    select distinct iana_time_zone from time_zones
),

renamed as (
    select
        ---------- ids
        source.id as schedule_id,
        ---------- strings
        nullif(trim(source.name), '') as schedule_name,
        nullif(trim(source.time_zone), '') as raw_time_zone,
        coalesce(time_zones.iana_time_zone, iana_time_zones.iana_time_zone) as time_zone,
        ---------- timestamps
        cast(source.updated_at as {{ type_timestamp_tz() }}) as updated_at,
        ---------- metadata
        source._dlt_load_id,
        source._dlt_id
    from source
    left join time_zones
        on trim(source.time_zone) = time_zones.rails_time_zone
    left join iana_time_zones
        on trim(source.time_zone) = iana_time_zones.iana_time_zone
),

validated as (
    select
        *,
        case
            when schedule_id is null then 'missing primary key'
            when time_zone is null then 'unknown time zone'
        end as _quarantine_reason
    from renamed
),

ranked as (
    select
        *,
        {{ dedup_rank(['schedule_id'], 'updated_at desc nulls last') }} as _dedup_rank,
        {{ source_key(['schedule_id']) }} as _source_key
    from validated
)

select * from ranked
