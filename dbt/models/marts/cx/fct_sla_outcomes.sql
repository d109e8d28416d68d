{#- One row per SLA instance (ticket x SLA metric x instance) of a ticket that is not
    deleted: the policy and target Zendesk's SLA engine held it to, its milestones, its
    status and the elapsed time (int_sla_instances; DECISIONS.md, "SLAs").
    - outcome_at: when the outcome was decided (the breach for a breached instance, the
      fulfilment for an achieved one; null while active or paused); outcome_month its UTC month.
    - elapsed minutes: the engine's own update_status figures (calendar and business minutes
      the metric ran), else, for calendar time only, activation to fulfilment.
    - team and assignee: the ticket's assignee (fct_tickets) and the team they were in on the
      (UTC) day the SLA was applied (int_employee_team_history). -#}
with

instances as (
    select * from {{ ref('int_sla_instances') }}
),

tickets as (
    select * from {{ ref('fct_tickets') }}
),

team_history as (
    select * from {{ ref('int_employee_team_history') }}
),

enriched as (
    select
        instances.*,
        tickets.customer_id,
        tickets.priority,
        tickets.assignee_employee_id,
        case
            when instances.status = 'breached' then instances.breached_at
            when instances.status = 'achieved' then instances.fulfilled_at
        end as outcome_at,
        {{ cx_utc_date('instances.applied_at') }} as team_date
    from instances
    inner join tickets
        on instances.ticket_id = tickets.ticket_id
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
)

select
    cast(
        cast(ticket_id as {{ dbt.type_string() }}) || ':' || sla_metric || ':'
        || cast(instance_id as {{ dbt.type_string() }})
        as {{ dbt.type_string() }}
    ) as sla_instance_id,
    ticket_id,
    sla_metric,
    instance_id,
    cast(customer_id as {{ dbt.type_string() }}) as customer_id,
    cast(priority as {{ dbt.type_string() }}) as priority,
    sla_policy_id,
    sla_policy_title,
    target_minutes,
    is_business_hours,
    applications,
    applications > 1 as is_reapplied,
    first_applied_at,
    applied_at,
    activated_at,
    last_paused_at,
    fulfilled_at,
    breached_at,
    due_at,
    status,
    outcome_at,
    {{ cx_utc_month('outcome_at') }} as outcome_month,
    cast(
        coalesce(
            status_calendar_minutes,
            {{ cx_minutes_between('activated_at', 'fulfilled_at') }}
        ) as {{ ex_type_double() }}
    ) as elapsed_calendar_minutes,
    cast(status_business_minutes as {{ ex_type_double() }}) as elapsed_business_minutes,
    cast(assignee_employee_id as {{ dbt.type_string() }}) as assignee_employee_id,
    cast(team as {{ dbt.type_string() }}) as team
from with_team
