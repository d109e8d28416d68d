with

organizations as (
    select * from {{ ref('base_zendesk__organizations') }}
    where _quarantine_reason is null and _dedup_rank = 1
),

final as (
    select
        ---------- ids
        organization_id,
        ---------- strings
        organization_name,
        domain,
        ---------- timestamps
        created_at,
        updated_at
    from organizations
)

select * from final
