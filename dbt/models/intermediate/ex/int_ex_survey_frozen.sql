{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        full_refresh=false,
        on_schema_change='fail'
    )
}}
{#- The pulse-survey counts of every closed month, frozen: the only input of what is
    published (int_ex_survey_published).

    A month is closed once the survey data has been loaded past its end: a response (of any
    survey: the Qualtrics source loads all its surveys together, each exported in order of
    recording) recorded in a later month is in the warehouse. Until then the month is open
    and none of its survey figures is published.

    A closed month's counts are taken once, from int_ex_survey_groups, the first run that
    sees it closed, and never again: later loads, late responses, quarantine decisions or
    edits do not change what was published for it. This table keeps its rows across
    `--full-refresh` (`full_refresh=false`): it is the record of what has been published,
    not a function of the raw data. To restate a month deliberately, delete its rows here;
    the next run freezes it again from the data then (a change that may disclose
    individuals: see DECISIONS.md, "Anonymity over time").

    Why: every refresh used to republish the open month, and the difference between two
    consecutive publishes of a group (e.g. 6 respondents, then 7) gave away the new
    respondent's answers. A month published only when closed, and then never changed, leaves
    no such difference. -#}
with

survey_groups as (
    select * from {{ ref('int_ex_survey_groups') }}
),

survey_responses as (
    select recorded_at from {{ ref('stg_qualtrics__survey_responses') }}
),

data_until as (
    select max(recorded_at) as recorded_until
    from survey_responses
),

closing as (
    select
        recorded_until,
        {{ cx_utc_month('recorded_until') }} as latest_month
    from data_until
),

-- the months an earlier run froze: never taken again
frozen_months as (
    {% if is_incremental() %}
        select distinct frozen.month from {{ this }} as frozen
    {% else %}
        select cast(null as date) as month
        where 1 = 0
    {% endif %}
),

closed as (
    select
        survey_groups.*,
        closing.recorded_until
    from survey_groups
    cross join closing
    where
        survey_groups.month < closing.latest_month
        and survey_groups.month not in (select frozen_months.month from frozen_months)
)

select
    month,
    group_level,
    department,
    team,
    respondents,
    enps_respondents,
    enps_promoters,
    enps_passives,
    enps_detractors,
    engagement_respondents,
    engagement_answers,
    engagement_favorable,
    recorded_until as frozen_with_data_until
from closed
