-- One row per ticket: the Zendesk organization it belongs to (its own, else its requester's
-- default organization, which is what Zendesk itself assigns) and that organization's
-- HubSpot company.
with

tickets as (
    select * from {{ ref('stg_zendesk__tickets') }}
),

users as (
    select * from {{ ref('stg_zendesk__users') }}
),

customer_organizations as (
    select * from {{ ref('int_customer_organizations') }}
),

final as (
    select
        tickets.ticket_id,
        coalesce(tickets.organization_id, requesters.organization_id) as organization_id,
        customer_organizations.customer_id
    from tickets
    left join users as requesters
        on tickets.requester_id = requesters.user_id
    left join customer_organizations
        on
            coalesce(tickets.organization_id, requesters.organization_id)
            = customer_organizations.organization_id
)

select * from final
