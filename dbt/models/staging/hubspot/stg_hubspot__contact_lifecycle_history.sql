with

history as (
    select * from {{ ref('base_hubspot__contact_lifecycle_history') }}
    where _quarantine_reason is null and _dedup_rank = 1
),

final as (
    select
        ---------- ids
        lifecycle_change_id,
        contact_id,
        ---------- strings
        lifecycle_stage,
        source_type,
        source_id,
        updated_by_user_id,
        ---------- booleans
        is_cleared,
        ---------- timestamps
        changed_at
    from history
)

select * from final
