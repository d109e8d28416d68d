with

ticket_events as (
    select * from {{ ref('base_zendesk__ticket_events') }}
    where _quarantine_reason is null and _dedup_rank = 1
),

final as (
    select
        ---------- ids
        event_id,
        ticket_id,
        updater_id,
        ---------- strings
        via,
        ---------- timestamps
        created_at
    from ticket_events
)

select * from final
