{#- One row per customer touchpoint across HubSpot, Zendesk and Qualtrics, before its
    journey stage is known (fct_customer_stage_spells reads these to place the stages;
    fct_customer_touchpoints adds the stage and the occurrence number). Activity-Schema
    style: `activity` names what happened, `activity_value` qualifies it (the stage entered,
    new business or renewal, the SLA metric), `score` and `revenue` carry its measure.

    The customer is the HubSpot company; a ticket whose Zendesk organization matches no
    company keeps a customer of its own, 'zendesk:<organization id>' (`is_crm_customer`
    false), and so do the survey answers about its tickets. Touchpoints with no customer at all
    (a ticket without organization, an answer from an unknown contact) are left out.
    `employee_id` and `team` are the ticket assignee's, on the UTC day of the touchpoint
    (BambooHR job history). Contract dates are read as 00:00 UTC. A contract end is a
    touchpoint only once HubSpot has wholly passed that day (decided), a contract start once
    it has begun. -#}
with

lifecycle as (
    select * from {{ ref('stg_hubspot__company_lifecycle_history') }}
),

deals as (
    select * from {{ ref('stg_hubspot__deals') }}
),

deal_companies as (
    select * from {{ ref('stg_hubspot__deal_companies') }}
),

contracts as (
    select * from {{ ref('int_customer_contracts') }}
),

horizons as (
    select * from {{ ref('int_source_horizons') }}
),

tickets as (
    select * from {{ ref('fct_tickets') }}
),

status_changes as (
    select * from {{ ref('int_ticket_status_changes') }}
),

sla_outcomes as (
    select * from {{ ref('fct_sla_outcomes') }}
),

responses as (
    select * from {{ ref('fct_survey_responses') }}
),

team_history as (
    select * from {{ ref('int_employee_team_history') }}
),

ticket_customers as (
    select
        ticket_id,
        coalesce(
            customer_id,
            'zendesk:' || cast(organization_id as {{ dbt.type_string() }})
        ) as customer_id,
        customer_id is not null as is_crm_customer,
        channel,
        assignee_employee_id
    from tickets
    where customer_id is not null or organization_id is not null
),

---------- HubSpot: lifecycle stages, deals, contracts
lifecycle_touchpoints as (
    select
        'hubspot:lifecycle:' || lifecycle_change_id as touchpoint_id,
        customer_id,
        true as is_crm_customer,
        changed_at as occurred_at,
        'hubspot' as source_system,
        case when is_cleared then 'lifecycle_stage_cleared' else 'lifecycle_stage_entered' end
            as activity,
        lifecycle_stage as activity_value,
        cast(null as {{ dbt.type_string() }}) as channel,
        cast(null as {{ ex_type_double() }}) as score,
        cast(null as {{ ex_type_double() }}) as revenue,
        cast(null as {{ dbt.type_string() }}) as deal_id,
        cast(null as {{ dbt.type_bigint() }}) as ticket_id,
        cast(null as {{ dbt.type_string() }}) as response_id,
        cast(null as {{ dbt.type_string() }}) as assignee_employee_id
    from lifecycle
),

first_contracts as (
    select
        customer_id,
        min(contract_start_date) as first_contract_start_date
    from contracts
    group by customer_id
),

company_deals as (
    select
        deals.*,
        deal_companies.customer_id,
        -- a renewal: the company had a contract that began before the deal was created
        case
            when {{ journey_date_utc('first_contracts.first_contract_start_date') }} < deals.created_at
                then 'renewal'
            else 'new_business'
        end as deal_kind
    from deals
    inner join deal_companies
        on deals.deal_id = deal_companies.deal_id
    left join first_contracts
        on deal_companies.customer_id = first_contracts.customer_id
),

deal_touchpoints as (
    select
        'hubspot:deal_created:' || deal_id as touchpoint_id,
        customer_id,
        created_at as occurred_at,
        'deal_created' as activity,
        deal_kind as activity_value,
        amount as revenue,
        deal_id
    from company_deals
    where created_at is not null
    union all
    select
        'hubspot:deal_closed:' || deal_id as touchpoint_id,
        customer_id,
        close_at as occurred_at,
        case
            when is_won and deal_kind = 'renewal' then 'renewal_won'
            when is_won then 'deal_won'
            else 'deal_lost'
        end as activity,
        deal_kind as activity_value,
        case when is_won then amount end as revenue,
        deal_id
    from company_deals
    where is_closed and close_at is not null
),

-- a contract is renewed when another of the customer's contracts covers its end date
renewed_contracts as (
    select distinct contracts.deal_id
    from contracts
    inner join contracts as later
        on
            contracts.customer_id = later.customer_id
            and contracts.contract_end_date >= later.contract_start_date
            and contracts.contract_end_date < later.contract_end_date
),

contract_facts as (
    select
        contracts.*,
        {{ journey_date_utc('contracts.contract_start_date') }} as started_at,
        {{ journey_date_utc('contracts.contract_end_date') }} as ended_at,
        row_number() over (
            partition by contracts.customer_id order by contracts.contract_start_date, contracts.deal_id
        ) as contract_number,
        renewed_contracts.deal_id is not null as is_renewed
    from contracts
    left join renewed_contracts
        on contracts.deal_id = renewed_contracts.deal_id
),

contract_touchpoints as (
    select
        'hubspot:contract_started:' || contract_facts.deal_id as touchpoint_id,
        contract_facts.customer_id,
        contract_facts.started_at as occurred_at,
        'contract_started' as activity,
        case when contract_facts.contract_number = 1 then 'first' else 'renewal' end
            as activity_value,
        contract_facts.annual_contract_value as revenue,
        contract_facts.deal_id
    from contract_facts
    cross join horizons
    where contract_facts.contract_start_date <= horizons.hubspot_loaded_through_date
    union all
    select
        'hubspot:contract_ended:' || contract_facts.deal_id as touchpoint_id,
        contract_facts.customer_id,
        contract_facts.ended_at as occurred_at,
        'contract_ended' as activity,
        case when contract_facts.is_renewed then 'renewed' else 'not_renewed' end
            as activity_value,
        cast(null as {{ ex_type_double() }}) as revenue,
        contract_facts.deal_id
    from contract_facts
    cross join horizons
    where contract_facts.contract_end_date <= horizons.hubspot_decided_through_date
    union all
    select
        'hubspot:renewal_lost:' || contract_facts.deal_id as touchpoint_id,
        contract_facts.customer_id,
        contract_facts.ended_at as occurred_at,
        'renewal_lost' as activity,
        cast(null as {{ dbt.type_string() }}) as activity_value,
        -- the annual value the customer stopped paying
        -contract_facts.annual_contract_value as revenue,
        contract_facts.deal_id
    from contract_facts
    cross join horizons
    where
        contract_facts.contract_end_date <= horizons.hubspot_decided_through_date
        and not contract_facts.is_renewed
),

crm_touchpoints as (
    select
        touchpoint_id,
        customer_id,
        true as is_crm_customer,
        occurred_at,
        'hubspot' as source_system,
        activity,
        activity_value,
        cast(null as {{ dbt.type_string() }}) as channel,
        cast(null as {{ ex_type_double() }}) as score,
        cast(revenue as {{ ex_type_double() }}) as revenue,
        deal_id,
        cast(null as {{ dbt.type_bigint() }}) as ticket_id,
        cast(null as {{ dbt.type_string() }}) as response_id,
        cast(null as {{ dbt.type_string() }}) as assignee_employee_id
    from deal_touchpoints
    union all
    select
        touchpoint_id,
        customer_id,
        true as is_crm_customer,
        occurred_at,
        'hubspot' as source_system,
        activity,
        activity_value,
        cast(null as {{ dbt.type_string() }}) as channel,
        cast(null as {{ ex_type_double() }}) as score,
        cast(revenue as {{ ex_type_double() }}) as revenue,
        deal_id,
        cast(null as {{ dbt.type_bigint() }}) as ticket_id,
        cast(null as {{ dbt.type_string() }}) as response_id,
        cast(null as {{ dbt.type_string() }}) as assignee_employee_id
    from contract_touchpoints
),

---------- Zendesk: tickets, replies, solves, reopens, SLA breaches
ticket_events as (
    select
        'zendesk:ticket_created:' || cast(tickets.ticket_id as {{ dbt.type_string() }}) as touchpoint_id,
        tickets.ticket_id,
        tickets.created_at as occurred_at,
        'ticket_created' as activity,
        cast(null as {{ dbt.type_string() }}) as activity_value
    from tickets
    union all
    select
        'zendesk:first_reply:' || cast(tickets.ticket_id as {{ dbt.type_string() }}) as touchpoint_id,
        tickets.ticket_id,
        tickets.first_reply_at as occurred_at,
        'first_reply' as activity,
        cast(null as {{ dbt.type_string() }}) as activity_value
    from tickets
    where tickets.first_reply_at is not null
    union all
    select
        'zendesk:' || case when status_changes.is_solve then 'ticket_solved:' else 'ticket_reopened:' end
        || cast(status_changes.child_event_id as {{ dbt.type_string() }}) as touchpoint_id,
        status_changes.ticket_id,
        status_changes.changed_at as occurred_at,
        case when status_changes.is_solve then 'ticket_solved' else 'ticket_reopened' end
            as activity,
        cast(null as {{ dbt.type_string() }}) as activity_value
    from status_changes
    inner join tickets
        on status_changes.ticket_id = tickets.ticket_id
    where status_changes.is_solve or status_changes.is_reopen
    union all
    select
        'zendesk:sla_breached:' || sla_outcomes.sla_instance_id as touchpoint_id,
        sla_outcomes.ticket_id,
        sla_outcomes.breached_at as occurred_at,
        'sla_breached' as activity,
        sla_outcomes.sla_metric as activity_value
    from sla_outcomes
    where sla_outcomes.status = 'breached'
),

helpdesk_touchpoints as (
    select
        ticket_events.touchpoint_id,
        ticket_customers.customer_id,
        ticket_customers.is_crm_customer,
        ticket_events.occurred_at,
        'zendesk' as source_system,
        ticket_events.activity,
        ticket_events.activity_value,
        ticket_customers.channel,
        cast(null as {{ ex_type_double() }}) as score,
        cast(null as {{ ex_type_double() }}) as revenue,
        cast(null as {{ dbt.type_string() }}) as deal_id,
        ticket_events.ticket_id,
        cast(null as {{ dbt.type_string() }}) as response_id,
        ticket_customers.assignee_employee_id
    from ticket_events
    inner join ticket_customers
        on ticket_events.ticket_id = ticket_customers.ticket_id
),

---------- Qualtrics: CSAT, CES and NPS answers
survey_touchpoints as (
    select
        'qualtrics:' || responses.survey_kind || '_answered:' || responses.response_id
            as touchpoint_id,
        coalesce(responses.customer_id, ticket_customers.customer_id) as customer_id,
        coalesce(responses.customer_id is not null, ticket_customers.is_crm_customer)
            as is_crm_customer,
        responses.recorded_at as occurred_at,
        'qualtrics' as source_system,
        responses.survey_kind || '_answered' as activity,
        cast(null as {{ dbt.type_string() }}) as activity_value,
        ticket_customers.channel,
        cast(responses.score as {{ ex_type_double() }}) as score,
        cast(null as {{ ex_type_double() }}) as revenue,
        cast(null as {{ dbt.type_string() }}) as deal_id,
        responses.ticket_id,
        responses.response_id,
        ticket_customers.assignee_employee_id
    from responses
    left join ticket_customers
        on responses.ticket_id = ticket_customers.ticket_id
    where
        responses.score is not null
        and coalesce(responses.customer_id, ticket_customers.customer_id) is not null
),

unioned as (
    select * from lifecycle_touchpoints
    union all
    select * from crm_touchpoints
    union all
    select * from helpdesk_touchpoints
    union all
    select * from survey_touchpoints
),

final as (
    select
        unioned.touchpoint_id,
        unioned.customer_id,
        unioned.is_crm_customer,
        unioned.occurred_at,
        unioned.source_system,
        unioned.activity,
        unioned.activity_value,
        unioned.channel,
        unioned.score,
        unioned.revenue,
        unioned.deal_id,
        unioned.ticket_id,
        unioned.response_id,
        unioned.assignee_employee_id as employee_id,
        team_history.team
    from unioned
    left join team_history
        on
            unioned.assignee_employee_id = team_history.employee_id
            and team_history.valid_from <= {{ cx_utc_date('unioned.occurred_at') }}
            and (
                team_history.valid_to is null
                or {{ cx_utc_date('unioned.occurred_at') }} < team_history.valid_to
            )
    where unioned.occurred_at is not null
)

select * from final
