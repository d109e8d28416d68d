{#- One row per source: how far its data has been loaded (its newest record) and the last
    day whose states it decides are final (int_source_horizons). Every mart decides a
    source's states only up to that source's own day: a help-desk refresh never moves the
    CRM's or the HR system's. -#}
with

horizons as (
    select * from {{ ref('int_source_horizons') }}
),

sources as (
    select
        'hubspot' as source,
        'CRM: customers, contracts, churn' as decides,
        hubspot_loaded_through_at as loaded_through_at,
        hubspot_decided_through_date as decided_through_date
    from horizons
    union all
    select
        'zendesk' as source,
        'help desk: tickets, replies, solves' as decides,
        zendesk_loaded_through_at as loaded_through_at,
        zendesk_decided_through_date as decided_through_date
    from horizons
    union all
    select
        'bamboohr' as source,
        'HR: employment, headcount, teams' as decides,
        bamboohr_loaded_through_at as loaded_through_at,
        bamboohr_decided_through_date as decided_through_date
    from horizons
    union all
    select
        'qualtrics' as source,
        'surveys: NPS, CSAT, CES, pulse' as decides,
        qualtrics_loaded_through_at as loaded_through_at,
        qualtrics_decided_through_date as decided_through_date
    from horizons
)

select
    cast(source as {{ dbt.type_string() }}) as source,
    cast(decides as {{ dbt.type_string() }}) as decides,
    loaded_through_at,
    decided_through_date
from sources
