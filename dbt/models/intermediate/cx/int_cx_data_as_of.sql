-- One row: the instant the CX data is known to be complete up to, i.e. the latest record
-- time seen in any CX source (CRM changes, ticket updates, survey responses). Sources are
-- loaded together, so each is at least this fresh. Customer status on a day is knowable
-- only once the data has reached that day.
with

companies as (
    select max(updated_at) as latest_at from {{ ref('stg_hubspot__companies') }}
),

deals as (
    select max(updated_at) as latest_at from {{ ref('stg_hubspot__deals') }}
),

tickets as (
    select max(updated_at) as latest_at from {{ ref('stg_zendesk__tickets') }}
),

survey_responses as (
    select max(recorded_at) as latest_at from {{ ref('stg_qualtrics__survey_responses') }}
),

latest as (
    select latest_at from companies
    union all
    select latest_at from deals
    union all
    select latest_at from tickets
    union all
    select latest_at from survey_responses
),

final as (
    select
        max(latest_at) as as_of_at,
        max({{ cx_utc_date('latest_at') }}) as as_of_date
    from latest
)

select * from final
