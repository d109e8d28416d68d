with

deals as (
    select * from {{ ref('base_hubspot__deals') }}
    where _quarantine_reason is null and _dedup_rank = 1
),

final as (
    select
        ---------- ids
        deal_id,
        ---------- strings
        deal_name,
        ---------- numerics
        amount,
        ---------- enums and flags
        deal_stage,
        is_closed,
        is_won,
        ---------- dates and timestamps
        close_at,
        contract_start_date,
        contract_end_date,
        created_at,
        updated_at
    from deals
)

select * from final
