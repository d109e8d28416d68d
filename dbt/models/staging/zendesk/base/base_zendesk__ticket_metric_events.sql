{#- Every raw ticket metric event (Zendesk's SLA engine) with `_quarantine_reason` (null =
    usable) and `_dedup_rank`. `deleted` is sent on breach events only (absent = false); the
    optional parts (`sla` on apply_sla, `status` on update_status, `deleted`) are columns only
    once a load has seen one, hence column_or_null. An event of a ticket that is not staged
    is an orphan; a metric or type Zendesk does not document is quarantined, not guessed.
    A table: the deduplication of the largest raw table runs once per build, not in each of
    its readers and tests (as a view, ten of them re-ran it).
    Incremental by ticket, like the audits (issue 22: rebuilt whole, this chain was the
    largest part of a one-day refresh): a run rebuilds every event of the tickets that have
    an event loaded since the newest load in the table, or whose ticket was loaded since
    (stg_zendesk__ticket_loads: its verdict may change), or that lost an event to another
    ticket (ibid.); an event without a ticket id is taken once, from the load that brought
    it. The post-hook drops every row whose raw row dlt has since replaced. -#}
{{
    config(
        materialized=incremental_or_table(),
        unique_key='ticket_id',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        post_hook=["{{ delete_rows_gone_from_raw(source('raw_zendesk', 'ticket_metric_events')) }}"]
    )
}}
{%- set newest_load = newest_load_in_this() %}
{%- set raw = source('raw_zendesk', 'ticket_metric_events') %}
-- depends_on: {{ ref('stg_zendesk__ticket_loads') }} (incremental runs)
with

{% if is_incremental() %}
    rebuilt_tickets as (
        select ticket_id from {{ ref('stg_zendesk__ticket_loads') }}
        where {{ loaded_after(newest_load, '_rebuild_load_id') }}
        union
        select ticket_id from {{ raw }}
        where {{ loaded_after(newest_load) }}
    ),
{% endif %}

source as (
    select * from {{ raw }}
    {% if is_incremental() %}
        where
            ticket_id in (select rebuilt_tickets.ticket_id from rebuilt_tickets)
            or (
                ticket_id is null
                and {{ loaded_after(newest_load) }}
            )
    {% endif %}
),

tickets as (
    select ticket_id from {{ ref('stg_zendesk__tickets') }}
),

renamed as (
    select
        ---------- ids
        id as metric_event_id,
        ticket_id,
        cast(instance_id as integer) as instance_id,
        {{ column_or_null(raw, 'sla__policy__id', dbt.type_bigint()) }} as sla_policy_id,
        ---------- strings
        lower(trim(metric)) as metric,
        lower(trim(type)) as event_type,
        {{ column_or_null(raw, 'sla__policy__title', dbt.type_string()) }} as sla_policy_title,
        ---------- numerics
        {{ column_or_null(raw, 'sla__target', 'integer') }} as sla_target_minutes,
        {{ column_or_null(raw, 'status__calendar', 'integer') }} as status_calendar_minutes,
        {{ column_or_null(raw, 'status__business', 'integer') }} as status_business_minutes,
        ---------- booleans
        {{ column_or_null(raw, 'sla__business_hours', 'boolean') }} as sla_business_hours,
        coalesce({{ column_or_null(raw, 'deleted', 'boolean') }}, false) as is_deleted,
        ---------- timestamps
        cast(time as {{ type_timestamp_tz() }}) as event_at,
        ---------- metadata
        _dlt_load_id,
        _dlt_id
    from source
),

validated as (
    select
        renamed.*,
        case
            when renamed.metric_event_id is null then 'missing primary key'
            when renamed.event_at is null then 'missing time'
            when
                renamed.metric is null
                or renamed.metric not in (
                    'reply_time', 'requester_wait_time', 'agent_work_time',
                    'periodic_update_time', 'pausable_update_time', 'resolution_time',
                    'group_ownership_time'
                )
                then 'unknown metric'
            when
                renamed.event_type is null
                or renamed.event_type not in (
                    'activate', 'pause', 'fulfill', 'apply_sla', 'apply_group_sla', 'breach',
                    'update_status', 'measure'
                )
                then 'unknown event type'
            when renamed.instance_id is null then 'missing instance'
            when
                renamed.event_type = 'apply_sla'
                and (renamed.sla_target_minutes is null or renamed.sla_target_minutes <= 0)
                then 'invalid target'
            when tickets.ticket_id is null then 'orphan reference: ticket'
        end as _quarantine_reason
    from renamed
    left join tickets
        on renamed.ticket_id = tickets.ticket_id
),

ranked as (
    select
        *,
        {{ dedup_rank(['metric_event_id'], 'event_at desc nulls last') }} as _dedup_rank,
        {{ source_key(['metric_event_id']) }} as _source_key
    from validated
)

select * from ranked
