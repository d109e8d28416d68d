-- One row per post-ticket (CSAT) survey response: the ticket its embedded ticket id names
-- (deleted tickets match too: the response is real), the ticket's customer, and the
-- requester's HubSpot contact (requester email -> contact).
with

responses as (
    select * from {{ ref('stg_qualtrics__survey_responses') }}
),

tickets as (
    select * from {{ ref('stg_zendesk__tickets') }}
),

users as (
    select * from {{ ref('stg_zendesk__users') }}
),

ticket_customers as (
    select * from {{ ref('int_ticket_customers') }}
),

contacts_by_email as (
    select * from {{ ref('int_contacts_by_email') }}
),

final as (
    select
        responses.response_id,
        responses.ticket_id,
        tickets.ticket_id is not null as is_matched,
        coalesce(tickets.is_deleted, false) as is_ticket_deleted,
        ticket_customers.customer_id,
        contacts_by_email.contact_id
    from responses
    left join tickets
        on responses.ticket_id = tickets.ticket_id
    left join ticket_customers
        on tickets.ticket_id = ticket_customers.ticket_id
    left join users as requesters
        on tickets.requester_id = requesters.user_id
    left join contacts_by_email
        on requesters.email = contacts_by_email.email
    where responses.survey_kind = 'csat'
)

select * from final
