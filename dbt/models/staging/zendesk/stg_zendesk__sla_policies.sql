{#- One row per SLA policy, as the latest load saw it (its `updated_at` tells the version).
    The target a ticket was held to is the one its apply_sla event carries
    (stg_zendesk__ticket_metric_events), not this row: a policy edited since keeps its old
    target on the tickets it was applied to before. -#}
with

policies as (
    select * from {{ ref('base_zendesk__sla_policies') }}
    where _quarantine_reason is null and _dedup_rank = 1
),

final as (
    select
        ---------- ids
        sla_policy_id,
        ---------- strings
        title,
        description,
        filter_json,
        ---------- numerics
        position,
        ---------- timestamps
        created_at,
        updated_at
    from policies
)

select * from final
