{#- One row: how far each source has been loaded. A source's data is complete up to its
    newest record (`<source>_loaded_through_at`): the loader took everything its vendor had
    changed up to the moment it ran, and that moment is at least the newest change it
    brought. So this is a lower bound of the load time, read from the vendor's own clock
    (the load's wall-clock time would be wrong for a vendor, or a simulator, whose clock
    differs), and it never moves because another source was loaded.

    Every time a loaded record carries counts, quarantined rows included (a row that fails
    validation still shows how far the load reached): HubSpot companies, contacts and deals
    (last modified); Zendesk tickets (updated), ticket audits (created), users and
    organizations (updated); BambooHR employees (lastChanged); Qualtrics responses
    (recorded).

    Two derived dates per source, on the UTC calendar:
    - `<source>_loaded_through_date`: the UTC date of that instant. A month's counts from the
      source are complete once this date has reached the first day of the next month.
    - `<source>_decided_through_date`: the day before it, the last day the data has wholly
      passed. A state of a day that the source decides (a company being a customer, a
      person being employed) is final only up to this day: a renewal or a hire can still be
      entered later on the day itself. States after it are published as unknown (null), not
      guessed from another source. -#}
with

loaded_times as (
    select
        'hubspot' as source,
        max(updated_at) as loaded_through_at
    from {{ ref('base_hubspot__companies') }}
    union all
    select
        'hubspot' as source,
        max(updated_at) as loaded_through_at
    from {{ ref('base_hubspot__contacts') }}
    union all
    select
        'hubspot' as source,
        max(updated_at) as loaded_through_at
    from {{ ref('base_hubspot__deals') }}
    union all
    select
        'zendesk' as source,
        max(updated_at) as loaded_through_at
    from {{ ref('base_zendesk__tickets') }}
    union all
    select
        'zendesk' as source,
        max(created_at) as loaded_through_at
    from {{ ref('base_zendesk__ticket_events') }}
    union all
    select
        'zendesk' as source,
        max(updated_at) as loaded_through_at
    from {{ ref('base_zendesk__users') }}
    union all
    select
        'zendesk' as source,
        max(updated_at) as loaded_through_at
    from {{ ref('base_zendesk__organizations') }}
    union all
    select
        'bamboohr' as source,
        max(updated_at) as loaded_through_at
    from {{ ref('base_bamboohr__employees') }}
    union all
    select
        'qualtrics' as source,
        max(recorded_at) as loaded_through_at
    from {{ ref('base_qualtrics__survey_responses') }}
),

per_source as (
    select
        max(case when source = 'hubspot' then loaded_through_at end) as hubspot_loaded_through_at,
        max(case when source = 'zendesk' then loaded_through_at end) as zendesk_loaded_through_at,
        max(case when source = 'bamboohr' then loaded_through_at end) as bamboohr_loaded_through_at,
        max(case when source = 'qualtrics' then loaded_through_at end) as qualtrics_loaded_through_at
    from loaded_times
),

dated as (
    select
        *,
        {{ cx_utc_date('hubspot_loaded_through_at') }} as hubspot_loaded_through_date,
        {{ cx_utc_date('zendesk_loaded_through_at') }} as zendesk_loaded_through_date,
        {{ cx_utc_date('bamboohr_loaded_through_at') }} as bamboohr_loaded_through_date,
        {{ cx_utc_date('qualtrics_loaded_through_at') }} as qualtrics_loaded_through_date
    from per_source
),

final as (
    select
        hubspot_loaded_through_at,
        hubspot_loaded_through_date,
        cast({{ dbt.dateadd('day', -1, 'hubspot_loaded_through_date') }} as date)
            as hubspot_decided_through_date,
        zendesk_loaded_through_at,
        zendesk_loaded_through_date,
        cast({{ dbt.dateadd('day', -1, 'zendesk_loaded_through_date') }} as date)
            as zendesk_decided_through_date,
        bamboohr_loaded_through_at,
        bamboohr_loaded_through_date,
        cast({{ dbt.dateadd('day', -1, 'bamboohr_loaded_through_date') }} as date)
            as bamboohr_decided_through_date,
        qualtrics_loaded_through_at,
        qualtrics_loaded_through_date,
        cast({{ dbt.dateadd('day', -1, 'qualtrics_loaded_through_date') }} as date)
            as qualtrics_decided_through_date
    from dated
)

select * from final
