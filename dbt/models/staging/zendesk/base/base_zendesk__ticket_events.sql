{{
    config(
        materialized=incremental_or_table(),
        unique_key='ticket_id',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        post_hook=["{{ delete_rows_gone_from_raw(source('raw_zendesk', 'ticket_events')) }}"]
    )
}}
{%- set newest_load = newest_load_in_this() %}
{#- Every raw ticket audit with `_quarantine_reason` (null = usable) and `_dedup_rank`.
    An audit of a ticket that is not staged is an orphan. `updater_id` -1 is Zendesk's
    system user (automations) and is kept as sent.
    Incremental by ticket: a run rebuilds every audit of the tickets loaded since the newest
    load in the table (stg_zendesk__ticket_loads), so the verdicts follow their ticket's latest
    version; an audit without a ticket id is taken once, from the load that brought it.
    The tickets to rebuild include those that lost an audit to another ticket
    (stg_zendesk__ticket_loads); the post-hook drops every row whose raw row dlt has since
    replaced, so an audit sent again under another ticket leaves no copy under its old one. -#}
-- depends_on: {{ ref('stg_zendesk__ticket_loads') }} (incremental runs)
with

{% if is_incremental() %}
    ticket_loads as (
        select ticket_id from {{ ref('stg_zendesk__ticket_loads') }}
        where {{ loaded_after(newest_load, '_rebuild_load_id') }}
    ),
{% endif %}

source as (
    select * from {{ source('raw_zendesk', 'ticket_events') }}
    {% if is_incremental() %}
        where
            ticket_id in (select ticket_loads.ticket_id from ticket_loads)
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
        id as event_id,
        ticket_id,
        updater_id,
        ---------- strings
        nullif(trim(via), '') as via,
        ---------- timestamps
        cast(created_at as {{ type_timestamp_tz() }}) as created_at,
        ---------- metadata
        timestamp as export_cursor,
        _dlt_load_id,
        _dlt_id
    from source
),

validated as (
    select
        renamed.*,
        case
            when renamed.event_id is null then 'missing primary key'
            when renamed.created_at is null then 'missing created_at'
            when tickets.ticket_id is null then 'orphan reference: ticket'
        end as _quarantine_reason
    from renamed
    left join tickets
        on renamed.ticket_id = tickets.ticket_id
),

ranked as (
    select
        *,
        {{ dedup_rank(['event_id'], 'export_cursor desc nulls last') }} as _dedup_rank,
        {{ source_key(['event_id']) }} as _source_key
    from validated
)

select * from ranked
