{#- One row per SLA instance: ticket x SLA metric x instance that Zendesk's SLA engine applied
    a policy to (an instance without an apply_sla event has no target and is not an SLA
    instance). Everything comes from the engine's own events (stg_zendesk__ticket_metric_events);
    nothing is recomputed here (DECISIONS.md, "SLAs").
    - the application that counts is the latest apply_sla (by time, then event id): a policy
      edited, or a priority changed, while the instance ran re-applies it with the new target;
      `applications` > 1 marks the superseded ones.
    - breached_at: the first breach event not marked deleted (Zendesk deletes a breach it had
      scheduled when the metric was fulfilled first or the target changed).
    - due_at: the time of the breach the engine scheduled last (highest event id: ids follow
      the order the engine wrote them), deleted or not; null until that breach's time has come
      (the export lists no event ahead of its time).
    - the state: the latest of the instance's activate, pause and fulfill events (by time,
      then event id) says whether it runs, is paused or is fulfilled; a pausable metric
      (requester wait, agent work) is paused in pending (and on-hold) and runs again when the
      ticket returns to open, and a reopened ticket runs it again after its fulfilment.
    - fulfilled_at: the time of that latest event if it is a fulfill (null while running or
      paused again).
    - status: breached if a standing breach came no later than the fulfilment (or there is no
      fulfilment now); else achieved if fulfilled; paused if the latest event is a pause; else
      active.
    Incremental by ticket (issue 22: the whole chain was the largest part of a one-day
    refresh): a run rebuilds the instances of the tickets with an event loaded since the
    newest load it holds (`_dlt_load_id`, the newest load of an instance's events), valid or
    quarantined (an event re-sent invalid leaves the staged ones and must still rebuild its
    instance), or whose ticket was loaded since or lost an event to another ticket
    (stg_zendesk__ticket_loads: the verdicts on its events may change). The post-hook
    drops an instance left without its application (its events quarantined or gone):
    delete+insert on ticket_id never touches a ticket that yields no rows any more. -#}
{{
    config(
        materialized=incremental_or_table(),
        unique_key='ticket_id',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        post_hook=["{{ delete_sla_instances_not_applied() }}"]
    )
}}
{%- set newest_load = newest_load_in_this() %}
-- depends_on: {{ ref('stg_zendesk__ticket_loads') }} (incremental runs)
-- depends_on: {{ ref('base_zendesk__ticket_metric_events') }} (incremental runs)
with

{% if is_incremental() %}
    rebuilt_tickets as (
        select ticket_id from {{ ref('stg_zendesk__ticket_loads') }}
        where {{ loaded_after(newest_load, '_rebuild_load_id') }}
        union
        -- quarantined events included: an event re-sent invalid leaves the staged ones
        select ticket_id from {{ ref('base_zendesk__ticket_metric_events') }}
        where {{ loaded_after(newest_load) }}
    ),
{% endif %}

metric_events as (
    select * from {{ ref('stg_zendesk__ticket_metric_events') }}
    {% if is_incremental() %}
        where ticket_id in (select rebuilt_tickets.ticket_id from rebuilt_tickets)
    {% endif %}
),

events as (
    select * from metric_events
    where instance_id >= 1
),

applications as (
    select
        ticket_id,
        sla_metric,
        instance_id,
        event_at,
        sla_policy_id,
        sla_policy_title,
        sla_target_minutes,
        sla_business_hours,
        row_number() over (
            partition by ticket_id, sla_metric, instance_id
            order by event_at desc, metric_event_id desc
        ) as rank_latest,
        count(*) over (partition by ticket_id, sla_metric, instance_id) as applications,
        min(event_at) over (partition by ticket_id, sla_metric, instance_id) as first_applied_at
    from events
    where event_type = 'apply_sla'
),

latest_application as (
    select * from applications
    where rank_latest = 1
),

scheduled_breaches as (
    select
        ticket_id,
        sla_metric,
        instance_id,
        event_at,
        row_number() over (
            partition by ticket_id, sla_metric, instance_id
            order by metric_event_id desc
        ) as rank_latest
    from events
    where event_type = 'breach'
),

states as (
    select
        ticket_id,
        sla_metric,
        instance_id,
        event_type as state_event,
        event_at as state_at,
        row_number() over (
            partition by ticket_id, sla_metric, instance_id
            order by event_at desc, metric_event_id desc
        ) as rank_latest
    from events
    where event_type in ('activate', 'pause', 'fulfill')
),

milestones as (
    select
        ticket_id,
        sla_metric,
        instance_id,
        min(case when event_type = 'activate' then event_at end) as activated_at,
        max(case when event_type = 'pause' then event_at end) as last_paused_at,
        min(case when event_type = 'breach' and not is_deleted then event_at end) as breached_at,
        sum(case when event_type = 'breach' and is_deleted then 1 else 0 end) as deleted_breaches,
        max(case when event_type = 'update_status' then status_calendar_minutes end)
            as status_calendar_minutes,
        max(case when event_type = 'update_status' then status_business_minutes end)
            as status_business_minutes,
        max(_dlt_load_id) as _dlt_load_id
    from events
    group by ticket_id, sla_metric, instance_id
),

joined as (
    select
        latest_application.ticket_id,
        latest_application.sla_metric,
        latest_application.instance_id,
        latest_application.sla_policy_id,
        latest_application.sla_policy_title,
        latest_application.sla_target_minutes,
        latest_application.sla_business_hours,
        latest_application.applications,
        latest_application.first_applied_at,
        latest_application.event_at as applied_at,
        milestones.activated_at,
        milestones.last_paused_at,
        states.state_event,
        case when states.state_event = 'fulfill' then states.state_at end as fulfilled_at,
        case
            when
                milestones.breached_at
                <= coalesce(
                    case when states.state_event = 'fulfill' then states.state_at end,
                    milestones.breached_at
                )
                then milestones.breached_at
        end as breached_at,
        scheduled_breaches.event_at as due_at,
        milestones.deleted_breaches,
        milestones.status_calendar_minutes,
        milestones.status_business_minutes,
        milestones._dlt_load_id
    from latest_application
    inner join milestones
        on
            latest_application.ticket_id = milestones.ticket_id
            and latest_application.sla_metric = milestones.sla_metric
            and latest_application.instance_id = milestones.instance_id
    left join states
        on
            latest_application.ticket_id = states.ticket_id
            and latest_application.sla_metric = states.sla_metric
            and latest_application.instance_id = states.instance_id
            and states.rank_latest = 1
    left join scheduled_breaches
        on
            latest_application.ticket_id = scheduled_breaches.ticket_id
            and latest_application.sla_metric = scheduled_breaches.sla_metric
            and latest_application.instance_id = scheduled_breaches.instance_id
            and scheduled_breaches.rank_latest = 1
)

select
    cast(ticket_id as {{ dbt.type_bigint() }}) as ticket_id,
    cast(sla_metric as {{ dbt.type_string() }}) as sla_metric,
    cast(instance_id as integer) as instance_id,
    cast(sla_policy_id as {{ dbt.type_bigint() }}) as sla_policy_id,
    cast(sla_policy_title as {{ dbt.type_string() }}) as sla_policy_title,
    cast(sla_target_minutes as integer) as target_minutes,
    sla_business_hours as is_business_hours,
    cast(applications as integer) as applications,
    first_applied_at,
    applied_at,
    activated_at,
    last_paused_at,
    fulfilled_at,
    breached_at,
    due_at,
    cast(deleted_breaches as integer) as deleted_breaches,
    cast(status_calendar_minutes as integer) as status_calendar_minutes,
    cast(status_business_minutes as integer) as status_business_minutes,
    cast(
        case
            when breached_at is not null then 'breached'
            when fulfilled_at is not null then 'achieved'
            when state_event = 'pause' then 'paused'
            else 'active'
        end as {{ dbt.type_string() }}
    ) as status,
    _dlt_load_id
from joined
