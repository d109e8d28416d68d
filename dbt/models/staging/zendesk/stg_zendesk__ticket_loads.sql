{{
    config(
        materialized=incremental_or_table(),
        unique_key='ticket_id',
        incremental_strategy='delete+insert',
        on_schema_change='fail'
    )
}}
{%- set newest_load = newest_load_in_this() %}
{#- One row per ticket id in raw (staged or not), for the incremental ticket models:
    - `_dlt_load_id`: the newest dlt load that wrote the ticket or one of its audits (what
      their rows record);
    - `_rebuild_load_id`: the newest load that changed what they build for the ticket: that
      one, or a newer load that took something away from the ticket without writing it: one
      of its SLA metric events now comes under another ticket, one
      of its audits now comes under another ticket (the export sent the id again, under
      another ticket), a newer copy of one of its child events came under another ticket
      (its own copy now ranks second), or another copy of one of its child events is gone
      from raw (its own copy may now rank first). Those are seen against the two base tables as they
      were last built, before this run rebuilds them: read without ref (a ref would be a
      cycle); this model is a table, so what it saw holds for the whole run, and
      incremental, so it keeps what it saw until a later load supersedes it (a model that
      missed a run, its build having failed, still rebuilds the ticket the next time).
    The incremental ticket models rebuild the tickets whose `_rebuild_load_id` is newer than
    the newest load they hold (`loaded_after`), so a refresh's work follows what was
    loaded. A full build sees no moves: both columns are the newest load of the ticket. -#}
{%- set built_events = none %}
{%- set built_children = none %}
{%- set built_metric_events = none %}
{%- if execute and is_incremental() %}
    {%- set built_events = adapter.get_relation(
        database=this.database, schema=this.schema, identifier='base_zendesk__ticket_events') %}
    {%- set built_children = adapter.get_relation(
        database=this.database, schema=this.schema, identifier='base_zendesk__ticket_child_events') %}
    {%- set built_metric_events = adapter.get_relation(
        database=this.database, schema=this.schema, identifier='base_zendesk__ticket_metric_events') %}
{%- endif %}
with

loads as (
    select
        id as ticket_id,
        _dlt_load_id,
        true as is_written
    from {{ source('raw_zendesk', 'tickets') }}
    {% if is_incremental() %}where {{ loaded_after(newest_load) }}{% endif %}
    union all
    select
        ticket_id,
        _dlt_load_id,
        true as is_written
    from {{ source('raw_zendesk', 'ticket_events') }}
    {% if is_incremental() %}where {{ loaded_after(newest_load) }}{% endif %}
    {% if built_metric_events is not none %}
        union all
        -- metric events a newer load put under another ticket: the ticket they were built under
        select
            built.ticket_id,
            metric_events._dlt_load_id,
            false as is_written
        from {{ source('raw_zendesk', 'ticket_metric_events') }} as metric_events
        inner join {{ built_metric_events }} as built
            on metric_events.id = built.metric_event_id
        where
            {{ loaded_after(newest_load, 'metric_events._dlt_load_id') }}
            and built.ticket_id is distinct from metric_events.ticket_id
    {% endif %}
    {% if built_events is not none %}
        union all
        -- audits a newer load put under another ticket: the ticket they were built under
        select
            built.ticket_id,
            audits._dlt_load_id,
            false as is_written
        from {{ source('raw_zendesk', 'ticket_events') }} as audits
        inner join {{ built_events }} as built
            on audits.id = built.event_id
        where
            {{ loaded_after(newest_load, 'audits._dlt_load_id') }}
            and built.ticket_id is distinct from audits.ticket_id
    {% endif %}
    {% if built_children is not none %}
        union all
        -- child event ids a newer load brought under another ticket: the ticket of the copy
        -- built before
        select
            built.ticket_id,
            audits._dlt_load_id,
            false as is_written
        from {{ source('raw_zendesk', 'ticket_events__child_events') }} as children
        inner join {{ source('raw_zendesk', 'ticket_events') }} as audits
            on children._dlt_parent_id = audits._dlt_id
        inner join {{ built_children }} as built
            on children.id = built.child_event_id
        where
            {{ loaded_after(newest_load, 'audits._dlt_load_id') }}
            and built.ticket_id is distinct from audits.ticket_id
        union all
        -- child event ids whose built copy is gone from raw (dlt replaced it with its audit,
        -- sent again): the tickets of the other copies, one of which now ranks first
        select
            remaining.ticket_id,
            (select max(_dlt_load_id) from {{ source('raw_zendesk', 'ticket_events') }})
                as _dlt_load_id,
            false as is_written
        from {{ built_children }} as gone
        inner join {{ built_children }} as remaining
            on
                gone.child_event_id = remaining.child_event_id
                and gone._dlt_id <> remaining._dlt_id
        left join {{ source('raw_zendesk', 'ticket_events__child_events') }} as still_there
            on gone._dlt_id = still_there._dlt_id
        where still_there._dlt_id is null
    {% endif %}
),

tickets as (
    select
        ticket_id,
        max(case when is_written then _dlt_load_id end) as written_load_id,
        max(_dlt_load_id) as _rebuild_load_id
    from loads
    where ticket_id is not null
    group by ticket_id
)

select
    tickets.ticket_id,
    {% if is_incremental() -%}
        coalesce(tickets.written_load_id, previous._dlt_load_id, tickets._rebuild_load_id)
            as _dlt_load_id,
    {%- else -%}
        tickets.written_load_id as _dlt_load_id,
    {%- endif %}
    tickets._rebuild_load_id
from tickets
{% if is_incremental() -%}
    left join {{ this }} as previous
        on tickets.ticket_id = previous.ticket_id
{%- endif %}
