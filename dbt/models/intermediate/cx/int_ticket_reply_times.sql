{{
    config(
        materialized=incremental_or_table(),
        unique_key='ticket_id',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        post_hook=["{{ delete_vanished_tickets(ref('stg_zendesk__tickets')) }}"]
    )
}}
{%- set newest_load = newest_load_in_this() %}
-- One row per ticket (deleted ones included; marts drop them): first public agent reply,
-- first and last solve, public agent replies and reopens.
-- Incremental by ticket: a run rebuilds the tickets loaded since its newest load.
with

ticket_loads as (
    select * from {{ ref('stg_zendesk__ticket_loads') }}
    {% if is_incremental() %}where {{ loaded_after(newest_load, '_rebuild_load_id') }}{% endif %}
),

tickets as (
    select
        tickets.*,
        ticket_loads._dlt_load_id
    from {{ ref('stg_zendesk__tickets') }} as tickets
    inner join ticket_loads
        on tickets.ticket_id = ticket_loads.ticket_id
),

child_events as (
    select child_events.*
    from {{ ref('stg_zendesk__ticket_child_events') }} as child_events
    {% if is_incremental() %}
        where child_events.ticket_id in (select ticket_loads.ticket_id from ticket_loads)
    {% endif %}
),

users as (
    select * from {{ ref('stg_zendesk__users') }}
),

status_changes as (
    select status_changes.*
    from {{ ref('int_ticket_status_changes') }} as status_changes
    {% if is_incremental() %}
        where status_changes.ticket_id in (select ticket_loads.ticket_id from ticket_loads)
    {% endif %}
),

agents as (
    select user_id
    from users
    where role in ('agent', 'admin')
),

-- the audit that created the ticket: its comment is the request itself, never a reply
-- (an agent opening a ticket on a customer's behalf has not replied yet)
creation_audits as (
    select distinct
        ticket_id,
        event_id
    from child_events
    where event_type = 'Create'
),

public_agent_comments as (
    select
        comments.ticket_id,
        comments.created_at
    from child_events as comments
    inner join agents
        on comments.comment_author_id = agents.user_id
    left join creation_audits
        on
            comments.ticket_id = creation_audits.ticket_id
            and comments.event_id = creation_audits.event_id
    where
        comments.event_type = 'Comment'
        and comments.is_public_comment
        and creation_audits.event_id is null
),

replies as (
    select
        ticket_id,
        min(created_at) as first_reply_at,
        count(*) as count_public_agent_replies
    from public_agent_comments
    group by ticket_id
),

solves as (
    select
        ticket_id,
        min(case when is_solve then changed_at end) as first_solved_at,
        max(case when is_solve then changed_at end) as latest_solved_at,
        sum(case when is_solve then 1 else 0 end) as count_solves,
        sum(case when is_reopen then 1 else 0 end) as count_reopens
    from status_changes
    group by ticket_id
),

joined as (
    select
        tickets.ticket_id,
        tickets.created_at,
        tickets.status,
        tickets.is_deleted,
        tickets.status in ('solved', 'closed') as is_solved,
        replies.first_reply_at,
        coalesce(replies.count_public_agent_replies, 0) as count_public_agent_replies,
        solves.first_solved_at,
        solves.latest_solved_at,
        coalesce(solves.count_solves, 0) as count_solves,
        coalesce(solves.count_reopens, 0) as count_reopens,
        tickets._dlt_load_id
    from tickets
    left join replies
        on tickets.ticket_id = replies.ticket_id
    left join solves
        on tickets.ticket_id = solves.ticket_id
),

final as (
    select
        ticket_id,
        created_at,
        status,
        is_deleted,
        is_solved,
        first_reply_at,
        count_public_agent_replies,
        first_solved_at,
        -- a resolution counts only while it stands: a reopened, unsolved ticket has none
        case when is_solved then latest_solved_at end as last_solved_at,
        count_solves,
        count_reopens,
        (
            is_solved
            and count_public_agent_replies = 1
            and count_reopens = 0
        ) as is_one_touch_resolution,
        _dlt_load_id
    from joined
)

select * from final
