with

companies as (
    select * from {{ ref('base_hubspot__companies') }}
    where _quarantine_reason is null and _dedup_rank = 1
),

final as (
    select
        ---------- ids
        customer_id,
        ---------- strings
        customer_name,
        domain,
        industry,
        country,
        segment,
        lifecycle_stage,
        ---------- timestamps
        created_at,
        updated_at
    from companies
)

select * from final
