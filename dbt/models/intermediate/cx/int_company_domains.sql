-- One row per normalised company domain: the HubSpot company it identifies. When several
-- companies share a domain, the earliest created one wins (HubSpot keeps the oldest record
-- as primary when duplicates are merged); the count of candidates is kept. Zendesk
-- organizations (int_customer_organizations) and, as a fallback, contacts' and NPS
-- respondents' email domains (int_contact_companies, int_nps_respondent_contacts) are
-- matched to companies through it.
with

companies as (
    select * from {{ ref('stg_hubspot__companies') }}
),

ranked as (
    select
        domain,
        customer_id,
        row_number() over (
            partition by domain order by created_at, customer_id
        ) as domain_rank,
        count(*) over (partition by domain) as count_candidate_customers
    from companies
    where domain is not null and domain <> ''
)

select
    domain,
    customer_id,
    count_candidate_customers
from ranked
where domain_rank = 1
