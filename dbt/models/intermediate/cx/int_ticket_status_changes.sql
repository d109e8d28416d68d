{{
    config(
        materialized=incremental_or_table(),
        unique_key='ticket_id',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        post_hook=[
            "{{ delete_vanished_tickets(ref('stg_zendesk__ticket_child_events')) }}",
            "{{ delete_rows_no_longer_staged(ref('stg_zendesk__ticket_child_events'), 'child_event_id') }}"
        ]
    )
}}
{%- set newest_load = newest_load_in_this() %}
-- One row per status change of a ticket (the Create audit's initial status included), with
-- the status it left and whether the change solved or reopened the ticket.
-- Incremental by ticket: a run rebuilds the tickets loaded since its newest load; a ticket
-- left with no status change (it moved to another ticket) loses its rows in the post-hook.
with

ticket_loads as (
    select * from {{ ref('stg_zendesk__ticket_loads') }}
    {% if is_incremental() %}where {{ loaded_after(newest_load, '_rebuild_load_id') }}{% endif %}
),

child_events as (
    select child_events.*
    from {{ ref('stg_zendesk__ticket_child_events') }} as child_events
    {% if is_incremental() %}
        where child_events.ticket_id in (select ticket_loads.ticket_id from ticket_loads)
    {% endif %}
),

status_events as (
    select
        ticket_id,
        event_id,
        child_event_id,
        event_type,
        created_at as changed_at,
        value as to_status,
        previous_value
    from child_events
    where
        field_name = 'status'
        and event_type in ('Create', 'Change')
),

sequenced as (
    select
        *,
        row_number() over (
            partition by ticket_id order by changed_at, event_id, child_event_id
        ) as status_change_number,
        lag(to_status) over (
            partition by ticket_id order by changed_at, event_id, child_event_id
        ) as preceding_status
    from status_events
),

classified as (
    select
        ticket_id,
        event_id,
        child_event_id,
        status_change_number,
        event_type,
        changed_at,
        -- Zendesk's previous_value is authoritative; the preceding change fills a gap
        coalesce(previous_value, preceding_status) as from_status,
        to_status
    from sequenced
),

final as (
    select
        classified.*,
        -- a solve: into solved (or straight into closed) from any unsolved status
        coalesce(
            classified.to_status in ('solved', 'closed')
            and coalesce(classified.from_status, 'new') not in ('solved', 'closed'),
            false
        ) as is_solve,
        -- a reopen: out of solved into an unsolved status (closed tickets cannot reopen)
        coalesce(
            classified.from_status = 'solved'
            and classified.to_status in ('new', 'open', 'pending', 'hold'),
            false
        ) as is_reopen,
        ticket_loads._dlt_load_id
    from classified
    inner join ticket_loads
        on classified.ticket_id = ticket_loads.ticket_id
)

select * from final
