{#- One row per ticket metric event of Zendesk's SLA engine. `sla_metric` names the SLA
    metric the event belongs to, as SLA policies name them: a `reply_time` event of instance 1
    is `first_reply_time`, of instance >= 2 `next_reply_time`; `resolution_time` is
    `total_resolution_time`; the others keep their name. `_dlt_load_id`, the load that
    brought the event, is the SLA models' incremental watermark. -#}
with

metric_events as (
    select * from {{ ref('base_zendesk__ticket_metric_events') }}
    where _quarantine_reason is null and _dedup_rank = 1
),

final as (
    select
        ---------- ids
        metric_event_id,
        ticket_id,
        instance_id,
        sla_policy_id,
        ---------- strings
        metric,
        case
            when metric = 'reply_time' and instance_id = 1 then 'first_reply_time'
            when metric = 'reply_time' then 'next_reply_time'
            when metric = 'resolution_time' then 'total_resolution_time'
            else metric
        end as sla_metric,
        event_type,
        sla_policy_title,
        ---------- numerics
        sla_target_minutes,
        status_calendar_minutes,
        status_business_minutes,
        ---------- booleans
        sla_business_hours,
        is_deleted,
        ---------- timestamps
        event_at,
        ---------- metadata
        _dlt_load_id
    from metric_events
)

select * from final
