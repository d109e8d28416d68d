{#- One row per SLA policy, metric and priority: the target (minutes) the policy's latest
    version sets, in business or calendar hours. -#}
with

policy_metrics as (
    select * from {{ ref('base_zendesk__sla_policy_metrics') }}
    where _quarantine_reason is null and _dedup_rank = 1
),

final as (
    select
        ---------- ids
        sla_policy_id,
        ---------- strings
        metric,
        priority,
        ---------- numerics
        target_minutes,
        ---------- booleans
        business_hours
    from policy_metrics
)

select * from final
