with

users as (
    select * from {{ ref('base_zendesk__users') }}
    where _quarantine_reason is null and _dedup_rank = 1
),

final as (
    select
        ---------- ids
        user_id,
        ---------- strings
        user_name,
        email,
        role,
        ---------- booleans
        is_active,
        ---------- references
        organization_id,
        default_group_id,
        ---------- timestamps
        created_at,
        updated_at
    from users
)

select * from final
