with

child_events as (
    select * from {{ ref('base_zendesk__ticket_child_events') }}
    where _quarantine_reason is null and _dedup_rank = 1
),

final as (
    select
        ---------- ids
        child_event_id,
        event_id,
        ticket_id,
        ---------- strings
        event_type,
        field_name,
        value,
        previous_value,
        comment_author_id,
        ---------- booleans
        is_public_comment,
        ---------- timestamps
        created_at
    from child_events
)

select * from final
