-- One row per NPS survey response: the HubSpot contact its respondent email identifies and
-- that contact's company (respondent email -> contact -> company).
with

responses as (
    select * from {{ ref('stg_qualtrics__survey_responses') }}
),

contacts_by_email as (
    select * from {{ ref('int_contacts_by_email') }}
),

final as (
    select
        responses.response_id,
        responses.respondent_email,
        contacts_by_email.contact_id,
        contacts_by_email.customer_id,
        contacts_by_email.contact_id is not null as is_matched
    from responses
    left join contacts_by_email
        on responses.respondent_email = contacts_by_email.email
    where responses.survey_kind = 'nps'
)

select * from final
