{#- Every raw ticket row with `_quarantine_reason` (null = usable) and `_dedup_rank`
    (1 = the version kept). Usable with a null: a priority Zendesk does not have
    ("critical") and a missing organization. Deleted tickets are kept and flagged. -#}
{%- set tickets = source('raw_zendesk', 'tickets') -%}
with

source as (
    select * from {{ tickets }}
),

renamed as (
    select
        ---------- ids
        id as ticket_id,
        {{ column_or_null(tickets, 'organization_id', 'bigint') }} as organization_id,
        {{ column_or_null(tickets, 'requester_id', 'bigint') }} as requester_id,
        {{ column_or_null(tickets, 'assignee_id', 'bigint') }} as assignee_id,
        {{ column_or_null(tickets, 'group_id', 'bigint') }} as group_id,
        ---------- strings
        nullif(lower(trim(via__channel)), '') as channel,
        case
            when lower(trim(priority)) in ('low', 'normal', 'high', 'urgent')
                then lower(trim(priority))
        end as priority,
        nullif(lower(trim({{ column_or_null(tickets, 'type', 'varchar') }})), '') as ticket_type,
        nullif(lower(trim(status)), '') as status,
        ---------- booleans
        coalesce(lower(trim(status)) = 'deleted', false) as is_deleted,
        ---------- timestamps
        cast(created_at as {{ type_timestamp_tz() }}) as created_at,
        cast(updated_at as {{ type_timestamp_tz() }}) as updated_at,
        ---------- metadata
        _dlt_load_id,
        _dlt_id
    from source
),

validated as (
    select
        *,
        case
            when ticket_id is null then 'missing primary key'
            when created_at is null then 'missing created_at'
            when
                status is null
                or status not in ('new', 'open', 'pending', 'hold', 'solved', 'closed', 'deleted')
                then 'unknown ticket status'
        end as _quarantine_reason
    from renamed
),

ranked as (
    select
        *,
        {{ dedup_rank(['ticket_id'], 'updated_at desc nulls last') }} as _dedup_rank,
        {{ source_key(['ticket_id']) }} as _source_key
    from validated
)

select * from ranked
