with

deal_companies as (
    select * from {{ ref('base_hubspot__deal_companies') }}
    where _quarantine_reason is null and _dedup_rank = 1
),

final as (
    select
        deal_id,
        customer_id
    from deal_companies
)

select * from final
