{#- Every raw child event of an audit (Create/Change of one field, or a Comment) with the
    audit's id, ticket and time, `_quarantine_reason` (null = usable) and `_dedup_rank`.
    The export writes a field change as a column named after the field; staging knows the
    fields the marts use (status, priority, group_id, assignee_id). A Create/Change of any
    other field is quarantined as 'unsupported event field', so it is counted, not dropped.
    Incremental by ticket, like base_zendesk__ticket_events: a run rebuilds the child events
    of the audits of every ticket loaded since the newest load in the table (and of every
    ticket holding a child event id that a newer load brought under another ticket). A
    rebuilt row's `_dedup_rank` counts every raw copy of its id, the other tickets' too, so
    it is the rank a full build gives. The post-hook drops rows whose raw row dlt has since
    replaced (their audit was sent again). (dlt deletes a child row with its audit, so every
    child row has its audit; one without would be an orphan that only a full refresh
    builds.) -#}
{{
    config(
        materialized=incremental_or_table(),
        unique_key='ticket_id',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        post_hook=[
            "{{ delete_rows_gone_from_raw(source('raw_zendesk', 'ticket_events__child_events')) }}"
        ]
    )
}}
{%- set newest_load = newest_load_in_this() %}
{%- set child_events = source('raw_zendesk', 'ticket_events__child_events') -%}
-- depends_on: {{ ref('stg_zendesk__ticket_loads') }} (incremental runs)
with

{% if is_incremental() %}
    ticket_loads as (
        select ticket_id from {{ ref('stg_zendesk__ticket_loads') }}
        where {{ loaded_after(newest_load, '_rebuild_load_id') }}
    ),
{% endif %}

source as (
    select
        _dlt_parent_id,
        _dlt_id,
        id,
        event_type,
        {{ column_or_null(child_events, 'status', 'varchar') }} as status,
        {{ column_or_null(child_events, 'priority', 'varchar') }} as priority,
        {{ column_or_null(child_events, 'group_id', 'varchar') }} as group_id,
        {{ column_or_null(child_events, 'assignee_id', 'varchar') }} as assignee_id,
        {{ column_or_null(child_events, 'previous_value', 'varchar') }} as previous_value,
        {{ column_or_null(child_events, 'author_id', 'bigint') }} as author_id,
        {{ column_or_null(child_events, 'public', 'boolean') }} as is_public,
        {{ column_or_null(child_events, 'created_at', 'timestamp with time zone') }} as created_at
    from {{ child_events }}
),

audits as (
    select
        _dlt_id,
        id as event_id,
        ticket_id,
        created_at,
        _dlt_load_id
    from {{ source('raw_zendesk', 'ticket_events') }}
    {% if is_incremental() %}
        where
            ticket_id in (select ticket_loads.ticket_id from ticket_loads)
            or (ticket_id is null and {{ loaded_after(newest_load) }})
    {% endif %}
),

staged_audits as (
    select event_id from {{ ref('stg_zendesk__ticket_events') }}
),

renamed as (
    select
        ---------- ids
        source.id as child_event_id,
        audits.event_id,
        audits.ticket_id,
        ---------- strings
        source.event_type,
        case
            when source.event_type not in ('Create', 'Change') then null
            when source.status is not null then 'status'
            when source.priority is not null then 'priority'
            when source.group_id is not null then 'group_id'
            when source.assignee_id is not null then 'assignee_id'
        end as field_name,
        case
            when source.event_type in ('Create', 'Change')
                then coalesce(source.status, source.priority, source.group_id, source.assignee_id)
        end as value,
        case when source.event_type = 'Change' then source.previous_value end as previous_value,
        case when source.event_type = 'Comment' then source.author_id end as comment_author_id,
        ---------- booleans
        case when source.event_type = 'Comment' then source.is_public end as is_public_comment,
        ---------- timestamps
        cast(coalesce(source.created_at, audits.created_at) as {{ type_timestamp_tz() }}) as created_at,
        ---------- metadata
        audits._dlt_load_id,
        source._dlt_id
    from source
    {% if is_incremental() %}inner{% else %}left{% endif %} join audits
        on source._dlt_parent_id = audits._dlt_id
),

validated as (
    select
        renamed.*,
        case
            when renamed.child_event_id is null then 'missing primary key'
            when staged_audits.event_id is null then 'orphan reference: ticket event'
            when
                renamed.event_type is null
                or renamed.event_type not in ('Create', 'Change', 'Comment')
                then 'unsupported event type'
            when renamed.event_type in ('Create', 'Change') and renamed.field_name is null
                then 'unsupported event field'
            when renamed.created_at is null then 'missing created_at'
        end as _quarantine_reason
    from renamed
    left join staged_audits
        on renamed.event_id = staged_audits.event_id
),

{% if is_incremental() %}
    -- the other raw copies of the rebuilt ids (under tickets not rebuilt now): they rank too
    other_copies as (
        select
            source.id as child_event_id,
            audits_anywhere._dlt_load_id,
            source._dlt_id
        from source
        left join {{ source('raw_zendesk', 'ticket_events') }} as audits_anywhere
            on source._dlt_parent_id = audits_anywhere._dlt_id
        where
            source.id in (select validated.child_event_id from validated)
            and source._dlt_id not in (select validated._dlt_id from validated)
    ),
{% endif %}

copies as (
    select
        child_event_id,
        _dlt_load_id,
        _dlt_id,
        true as is_built
    from validated
    {% if is_incremental() %}
        union all
        select
            child_event_id,
            _dlt_load_id,
            _dlt_id,
            false as is_built
        from other_copies
    {% endif %}
),

copy_ranks as (
    select
        _dlt_id,
        is_built,
        {{ dedup_rank(['child_event_id']) }} as _dedup_rank
    from copies
),

ranked as (
    select
        validated.*,
        copy_ranks._dedup_rank
    from validated
    inner join copy_ranks
        on
            validated._dlt_id = copy_ranks._dlt_id
            and copy_ranks.is_built
)

select
    *,
    {{ source_key(['child_event_id']) }} as _source_key
from ranked
