{{
    config(
        materialized=incremental_or_table(),
        unique_key='ticket_id',
        incremental_strategy='delete+insert',
        on_schema_change='append_new_columns',
        post_hook=[
            "{% if is_incremental() %}
            delete from {{ this }} as published
            where not exists (
                select 1
                from {{ ref('stg_zendesk__tickets') }} as tickets
                where tickets.ticket_id = published.ticket_id and not tickets.is_deleted
            )
            {% endif %}"
        ]
    )
}}
{#- One row per Zendesk ticket, deleted tickets excluded.
    Incremental: a run rebuilds every ticket that changed (the ticket, its requester, its
    organization or that organization's company updated; or its reply times or business
    minutes rebuilt with other values) since `lookback_days` before the
    newest activity already in the table; the post-hook then removes tickets deleted (or no
    longer valid) since. The result equals a full refresh. Edits that carry no timestamp
    (schedule and holiday changes, back-dated job history) reach old tickets with the
    nightly full refresh. -#}
with

tickets as (
    select * from {{ ref('stg_zendesk__tickets') }}
),

-- the next three serve incremental runs only (below); defined here so that dbt records
-- the dependencies when it parses the model as a full refresh
users as (  -- noqa: ST03
    select * from {{ ref('stg_zendesk__users') }}
),

customer_organizations as (  -- noqa: ST03
    select * from {{ ref('int_customer_organizations') }}
),

companies as (  -- noqa: ST03
    select * from {{ ref('stg_hubspot__companies') }}
),

ticket_customers as (
    select * from {{ ref('int_ticket_customers') }}
),

reply_times as (
    select * from {{ ref('int_ticket_reply_times') }}
),

business_minutes as (
    select * from {{ ref('int_ticket_business_minutes') }}
),

agent_employees as (
    select * from {{ ref('int_agent_employees') }}
),

team_history as (
    select * from {{ ref('int_employee_team_history') }}
),

{% if is_incremental() %}
    watermark as (
        select max(activity_at) as activity_at
        from (
            select max(created_at) as activity_at from {{ this }}
            union all
            select max(first_reply_at) as activity_at from {{ this }}
            union all
            select max(last_solved_at) as activity_at from {{ this }}
        ) as activity
    ),

    cutoff as (
        select
            coalesce(
                {{ dbt.dateadd('day', -var('lookback_days'), 'activity_at') }},
                cast('1900-01-01' as {{ dbt.type_timestamp() }})
            ) as cutoff_at
        from watermark
    ),

    -- tickets whose reply times or business minutes the ticket chain rebuilt with other
    -- values: it rebuilds by load, which need not move the ticket's updated_at (an audit that
    -- moved to another ticket takes its replies and solves along)
    rebuilt_tickets as (
        select reply_times.ticket_id
        from reply_times
        inner join {{ this }} as built
            on reply_times.ticket_id = built.ticket_id
        left join business_minutes
            on reply_times.ticket_id = business_minutes.ticket_id
        where
            reply_times.first_reply_at is distinct from built.first_reply_at
            or reply_times.first_solved_at is distinct from built.first_solved_at
            or reply_times.last_solved_at is distinct from built.last_solved_at
            or reply_times.count_public_agent_replies is distinct from built.count_public_agent_replies
            or reply_times.count_reopens is distinct from built.count_reopens
            or reply_times.is_solved is distinct from built.is_solved
            or reply_times.is_one_touch_resolution is distinct from built.is_one_touch_resolution
            or business_minutes.first_reply_business_minutes
            is distinct from built.first_reply_business_minutes
            or business_minutes.full_resolution_business_minutes
            is distinct from built.full_resolution_business_minutes
    ),

    changed_tickets as (
        select tickets.ticket_id
        from tickets
        cross join cutoff
        left join users as requesters
            on tickets.requester_id = requesters.user_id
        left join ticket_customers
            on tickets.ticket_id = ticket_customers.ticket_id
        left join customer_organizations
            on ticket_customers.organization_id = customer_organizations.organization_id
        left join companies
            on ticket_customers.customer_id = companies.customer_id
        where
            tickets.updated_at >= cutoff.cutoff_at
            or requesters.updated_at >= cutoff.cutoff_at
            or customer_organizations.updated_at >= cutoff.cutoff_at
            or companies.updated_at >= cutoff.cutoff_at
            or tickets.ticket_id in (select rebuilt_tickets.ticket_id from rebuilt_tickets)
    ),
{% endif %}

selected_tickets as (
    select tickets.*
    from tickets
    {% if is_incremental() %}
        inner join changed_tickets
            on tickets.ticket_id = changed_tickets.ticket_id
    {% endif %}
    where not tickets.is_deleted
),

enriched as (
    select
        selected_tickets.ticket_id,
        ticket_customers.customer_id,
        ticket_customers.organization_id,
        selected_tickets.requester_id,
        selected_tickets.assignee_id,
        agent_employees.employee_id as assignee_employee_id,
        selected_tickets.channel,
        selected_tickets.priority,
        selected_tickets.status,
        selected_tickets.created_at,
        reply_times.first_reply_at,
        reply_times.first_solved_at,
        reply_times.last_solved_at,
        {{ cx_minutes_between('selected_tickets.created_at', 'reply_times.first_reply_at') }}
            as first_reply_calendar_minutes,
        business_minutes.first_reply_business_minutes,
        {{ cx_minutes_between('selected_tickets.created_at', 'reply_times.last_solved_at') }}
            as full_resolution_calendar_minutes,
        business_minutes.full_resolution_business_minutes,
        reply_times.count_public_agent_replies,
        reply_times.count_reopens,
        reply_times.is_solved,
        reply_times.is_one_touch_resolution,
        -- the assignee's team on the (UTC) day the ticket was last solved, else created
        {{ cx_utc_date('coalesce(reply_times.last_solved_at, selected_tickets.created_at)') }}
            as team_date
    from selected_tickets
    left join ticket_customers
        on selected_tickets.ticket_id = ticket_customers.ticket_id
    left join reply_times
        on selected_tickets.ticket_id = reply_times.ticket_id
    left join business_minutes
        on selected_tickets.ticket_id = business_minutes.ticket_id
    left join agent_employees
        on selected_tickets.assignee_id = agent_employees.agent_user_id
),

with_team as (
    select
        enriched.*,
        team_history.team
    from enriched
    left join team_history
        on
            enriched.assignee_employee_id = team_history.employee_id
            and enriched.team_date >= team_history.valid_from
            and (team_history.valid_to is null or enriched.team_date < team_history.valid_to)
),

final as (
    select
        cast(ticket_id as {{ dbt.type_bigint() }}) as ticket_id,
        cast(customer_id as {{ dbt.type_string() }}) as customer_id,
        cast(organization_id as {{ dbt.type_bigint() }}) as organization_id,
        cast(requester_id as {{ dbt.type_bigint() }}) as requester_id,
        cast(assignee_id as {{ dbt.type_bigint() }}) as assignee_id,
        cast(assignee_employee_id as {{ dbt.type_string() }}) as assignee_employee_id,
        cast(team as {{ dbt.type_string() }}) as team,
        cast(channel as {{ dbt.type_string() }}) as channel,
        cast(priority as {{ dbt.type_string() }}) as priority,
        cast(status as {{ dbt.type_string() }}) as status,
        created_at,
        first_reply_at,
        first_solved_at,
        last_solved_at,
        cast(first_reply_calendar_minutes as {{ ex_type_double() }}) as first_reply_calendar_minutes,
        cast(first_reply_business_minutes as {{ ex_type_double() }}) as first_reply_business_minutes,
        cast(full_resolution_calendar_minutes as {{ ex_type_double() }})
            as full_resolution_calendar_minutes,
        cast(full_resolution_business_minutes as {{ ex_type_double() }})
            as full_resolution_business_minutes,
        cast(count_public_agent_replies as {{ dbt.type_bigint() }}) as count_public_agent_replies,
        cast(count_reopens as {{ dbt.type_bigint() }}) as count_reopens,
        is_solved,
        is_one_touch_resolution
    from with_team
)

select * from final
