with

contacts as (
    select * from {{ ref('base_hubspot__contacts') }}
    where _quarantine_reason is null and _dedup_rank = 1
),

final as (
    select
        ---------- ids
        contact_id,
        customer_id,
        ---------- strings
        email,
        first_name,
        last_name,
        ---------- timestamps
        created_at,
        updated_at
    from contacts
)

select * from final
