with

tickets as (
    select * from {{ ref('base_zendesk__tickets') }}
    where _quarantine_reason is null and _dedup_rank = 1
),

final as (
    select
        ---------- ids
        ticket_id,
        organization_id,
        requester_id,
        assignee_id,
        group_id,
        ---------- strings
        channel,
        priority,
        ticket_type,
        status,
        ---------- booleans
        is_deleted,
        ---------- timestamps
        created_at,
        updated_at
    from tickets
)

select * from final
