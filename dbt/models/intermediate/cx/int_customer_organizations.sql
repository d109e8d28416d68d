-- One row per Zendesk organization, with the HubSpot company (customer) it is, matched by
-- normalised domain (staging lower-cases, trims and strips a leading "www.").
-- When several companies share a domain, the earliest created one wins (HubSpot keeps the
-- oldest record as primary when duplicates are merged); the count of candidates is kept.
with

organizations as (
    select * from {{ ref('stg_zendesk__organizations') }}
),

companies as (
    select * from {{ ref('stg_hubspot__companies') }}
),

company_domains as (
    select
        domain,
        customer_id,
        row_number() over (
            partition by domain order by created_at, customer_id
        ) as domain_rank,
        count(*) over (partition by domain) as count_candidate_customers
    from companies
    where domain is not null and domain <> ''
),

final as (
    select
        organizations.organization_id,
        organizations.organization_name,
        organizations.domain,
        company_domains.customer_id,
        company_domains.customer_id is not null as is_matched,
        coalesce(company_domains.count_candidate_customers, 0) as count_candidate_customers,
        organizations.updated_at
    from organizations
    left join company_domains
        on
            organizations.domain = company_domains.domain
            and company_domains.domain_rank = 1
)

select * from final
