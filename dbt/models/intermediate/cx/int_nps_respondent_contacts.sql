-- One row per NPS survey response: the HubSpot contact its respondent email identifies and
-- the customer behind it. Customer: the contact's company association; else (fallback) the
-- company whose domain is the respondent email's domain (int_company_domains), whether or
-- not a contact has the email. `customer_match_method` says which ('association',
-- 'email_domain', null when unmatched); identity_match_rates reports both links.
with

responses as (
    select * from {{ ref('stg_qualtrics__survey_responses') }}
),

contacts_by_email as (
    select * from {{ ref('int_contacts_by_email') }}
),

company_domains as (
    select * from {{ ref('int_company_domains') }}
),

nps_responses as (
    select
        response_id,
        respondent_email,
        recorded_at,
        nullif({{ dbt.split_part('respondent_email', "'@'", 2) }}, '') as respondent_domain
    from responses
    where survey_kind = 'nps'
),

final as (
    select
        nps_responses.response_id,
        nps_responses.respondent_email,
        nps_responses.respondent_domain,
        nps_responses.recorded_at,
        contacts_by_email.contact_id,
        contacts_by_email.contact_id is not null as is_matched,
        case
            when contacts_by_email.match_method = 'association' then contacts_by_email.customer_id
            else company_domains.customer_id
        end as customer_id,
        case
            when contacts_by_email.match_method = 'association' then 'association'
            when company_domains.customer_id is not null then 'email_domain'
        end as customer_match_method
    from nps_responses
    left join contacts_by_email
        on nps_responses.respondent_email = contacts_by_email.email
    left join company_domains
        on nps_responses.respondent_domain = company_domains.domain
)

select * from final
